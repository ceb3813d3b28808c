"""The Dassl trainer that every CLIP prompt-learning method here subclasses."""

import math
import os
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn
from dassl.data import DataManager
from dassl.engine import TrainerX
from dassl.metrics import compute_accuracy
from dassl.optim import build_lr_scheduler, build_optimizer
from dassl.utils import load_pretrained_weights
from tqdm import tqdm
from yacs.config import CfgNode as CN

from dassl_setup import using_builtin_subset
from datasets.robust_reading import (
    RobustDatasetWrapper,
    check_corrupt_image_policy,
    readable_part,
)
from prompting.backbones import backbone_of, is_openclip_model
from prompting.clip_loading import check_vit, load_clip_to_cpu, weights_digest
from prompting.deep_prompt_model import DeepTextPrompts, IndependentPrompts, check_prompt_depth
from prompting.prompt_learner import ContextPromptLearner, phrase_token_count
from prompting.prompted_clip import PromptedCLIP, total_loss
from prompting.templates import check_prompt_template
from run.checkpoints import checkpoint_path, load_learned_state
from run.class_list import write_class_list
from run.config_aliases import Alias
from run.disk_errors import clear_write_errors
from run.distributed import is_main_process
from run.distributed_trainer import DistributedHooks
from run.precision import (
    autocast,
    backward_and_step,
    check_precision,
    grad_scaler,
    resolve_precision,
)
from run.prediction_counts import CountedPredictions
from run.result_file import test_result_record, write_result_file
from run.resume_checkpoints import (
    point_at_common_readable_checkpoint,
    save_resume_checkpoint,
    unfinished_model_dirs,
)
from run.user_errors import ConfigError, UserError

ADAM_FAMILY = ("adam", "amsgrad", "adamw", "radam")


def context_prompt_node(node, n_ctx, ctx_init=""):
    """``node`` with the keys of CoOp's prompt learner (CoOp, KgCoOp)."""
    node.N_CTX = n_ctx  # number of learnable context tokens
    node.CTX_INIT = ctx_init  # init phrase, e.g. "a photo of a"; "" = random N(0, 0.02)
    node.CSC = False  # class-specific context (one set per class)
    node.CLASS_TOKEN_POSITION = "end"  # end, middle or front
    node.CHECKPOINT_TEXT_BLOCKS = False  # recompute text blocks in backward to save memory
    return node


def context_prompt_learner(method_cfg, classnames, clip_model):
    """CoOp's prompt learner with the options of a ``context_prompt_node``."""
    return ContextPromptLearner(
        classnames,
        clip_model,
        n_ctx=method_cfg.N_CTX,
        ctx_init=method_cfg.CTX_INIT,
        class_specific=method_cfg.CSC,
        class_token_position=method_cfg.CLASS_TOKEN_POSITION,
    )


def deep_prompt_node(node):
    """``node`` with the keys of IVLP's deep prompts (IVLP, PromptSRC); defaults: the
    PromptSRC authors' base-to-new IVLP."""
    node.N_CTX_TEXT = 4  # text prompt tokens per block
    node.N_CTX_VISION = 4  # visual prompt tokens per block
    node.CTX_INIT = "a photo of a"  # its first N_CTX_TEXT tokens start the text context
    node.PROMPT_DEPTH_TEXT = 9  # text blocks receiving prompt sets (1 = the input only)
    node.PROMPT_DEPTH_VISION = 9  # image blocks receiving prompt sets (0 = no visual prompts)
    node.CHECKPOINT_TEXT_BLOCKS = False  # recompute text blocks in backward to save memory
    return node


def check_ctx_init(ctx_init, n_ctx, node_name, n_ctx_key):
    """IVLP-style context: the first ``n_ctx`` tokens of ``ctx_init`` (when given) start it."""
    if n_ctx < 1:
        raise ConfigError(f"{node_name}.{n_ctx_key} must be >= 1, got {n_ctx}")
    phrase = ctx_init.replace("_", " ")
    if phrase and phrase_token_count(phrase) < n_ctx:
        raise ConfigError(
            f'{node_name}.CTX_INIT "{ctx_init}" has {phrase_token_count(phrase)} tokens, fewer '
            f"than {node_name}.{n_ctx_key} = {n_ctx} context tokens it should initialise: use a "
            'longer phrase, fewer tokens or CTX_INIT "" (random context)'
        )


def check_deep_prompt_cfg(node, node_name):
    check_ctx_init(node.CTX_INIT, node.N_CTX_TEXT, node_name, "N_CTX_TEXT")
    if node.PROMPT_DEPTH_TEXT < 1:
        raise ConfigError(
            f"{node_name}.PROMPT_DEPTH_TEXT must be >= 1 (the input context), "
            f"got {node.PROMPT_DEPTH_TEXT}"
        )
    if node.PROMPT_DEPTH_VISION < 0:
        raise ConfigError(
            f"{node_name}.PROMPT_DEPTH_VISION must be >= 0, got {node.PROMPT_DEPTH_VISION}"
        )
    if node.PROMPT_DEPTH_VISION > 0 and node.N_CTX_VISION < 1:
        raise ConfigError(
            f"{node_name}.N_CTX_VISION must be >= 1 with visual prompts "
            f"(PROMPT_DEPTH_VISION {node.PROMPT_DEPTH_VISION})"
        )


def check_prompt_depths_fit(clip_model, text_depth, vision_depth, text_key, vision_key):
    """A prompt depth above the loaded CLIP's block count is a config error naming its key."""
    check_prompt_depth(text_depth, len(clip_model.transformer.resblocks), "text encoder", text_key)
    vision_blocks = len(clip_model.visual.transformer.resblocks)
    check_prompt_depth(vision_depth, vision_blocks, "image encoder", vision_key)


def independent_prompts(node, node_name, classnames, clip_model):
    """IVLP's learned prompts from a ``deep_prompt_node`` (IVLP, PromptSRC)."""
    check_prompt_depths_fit(
        clip_model,
        node.PROMPT_DEPTH_TEXT,
        node.PROMPT_DEPTH_VISION,
        f"{node_name}.PROMPT_DEPTH_TEXT",
        f"{node_name}.PROMPT_DEPTH_VISION",
    )
    text = DeepTextPrompts(
        classnames, clip_model, node.N_CTX_TEXT, node.PROMPT_DEPTH_TEXT, node.CTX_INIT
    )
    return IndependentPrompts(text, clip_model, node.N_CTX_VISION, node.PROMPT_DEPTH_VISION)


class NonFiniteLoss(UserError, FloatingPointError):
    pass


class InputSizeMismatch(ConfigError):
    pass


class NothingEvaluated(UserError, ValueError):
    pass


def check_finite_loss(loss, where):
    if not math.isfinite(loss.item()):
        raise NonFiniteLoss(
            f"Loss is {loss.item()} {where}. Likely causes: PREC fp16 with a too small Adam "
            "epsilon (set OPTIM.EPS 1e-3, as the SEP configs do) or too high a learning rate; "
            "PREC amp or fp32 is more robust."
        )


def build_prompt_optimizer(module, optim_cfg):
    """Dassl's optimizer, with ``OPTIM.EPS`` honoured even by a Dassl that ignores it."""
    optimizer = build_optimizer(module, optim_cfg)
    if optim_cfg.NAME in ADAM_FAMILY and "EPS" in optim_cfg:
        for group in optimizer.param_groups:
            group["eps"] = optim_cfg.EPS
    return optimizer


def check_input_size(cfg, clip_model):
    resolution = backbone_of(clip_model).image_resolution
    if tuple(cfg.INPUT.SIZE) != (resolution, resolution):
        raise InputSizeMismatch(
            f"INPUT.SIZE {tuple(cfg.INPUT.SIZE)} does not match the CLIP backbone's resolution "
            f'{resolution}: set INPUT.SIZE "({resolution}, {resolution})".'
        )
    if is_openclip_model(clip_model) and "normalize" in cfg.INPUT.TRANSFORMS:
        from prompting.openclip_loading import openclip_preprocessing

        check_normalization(cfg, *openclip_preprocessing(clip_model)[1:])


def check_normalization(cfg, mean, std):
    """``INPUT.PIXEL_MEAN`` / ``PIXEL_STD`` are those the model's images were normalised with
    (OpenCLIP models differ: some use ImageNet's, most OpenAI's); to fp32 precision."""
    for key, configured, expected in (
        ("PIXEL_MEAN", cfg.INPUT.PIXEL_MEAN, mean),
        ("PIXEL_STD", cfg.INPUT.PIXEL_STD, std),
    ):
        if len(configured) != len(expected) or any(
            abs(a - b) > 1e-6 for a, b in zip(configured, expected)
        ):
            raise InputSizeMismatch(
                f"INPUT.{key} {list(configured)} is not the one this CLIP backbone was trained "
                f'with: set INPUT.{key} "{list(expected)}".'
            )


class PromptTrainer(DistributedHooks, TrainerX):
    """Loads CLIP once, freezes it, trains ``model.learnable`` and evaluates.

    A method subclasses this (registered with ``@TRAINER_REGISTRY.register()``) and declares:

    - ``METHOD_CFG``: the name of its config node, ``cfg.TRAINER.<METHOD_CFG>`` (required).
    - ``config_node()``: that node's defaults, one commented line per key, extending
      ``super().config_node()`` (which holds ``PREC``). ``trainers/__init__.py`` registers it
      with ``run.config``, which adds it to the config of every run.
    - ``build_custom_clip(classnames, clip_model)``: its ``PromptedCLIP`` model (required),
      built from ``self.method_cfg``'s values; ``clip_model`` is loaded, frozen, on the device.
    - ``LEARNER_NAME``: the folder its learnable module is checkpointed in; ``None`` when it
      trains nothing (its model's ``learnable`` is then None too).
    - ``NEEDS_VIT``: True when its prompt tokens join the ViT's token sequence; a ResNet
      backbone is then refused before CLIP is loaded.
    - ``check_cfg(cfg)``: validation of its config values (extend with ``super().check_cfg``).
    - ``PUBLISHED_CONFIG``: its main config file in ``configs/trainers/<trainer name>/``
      (benchmarks and tests build the method from it).
    - ``PUBLISHED_NAME``: its name in published results tables, when not the trainer's name.

    - ``TINY_DEPTH_OPTIONS``: yacs options that fit its published prompt depths to the tiny CLIP
      of the tests and benchmarks (2 blocks per encoder, tools/make_tiny_clip.py).
    - ``IN_DEFAULT_BENCHMARK``: whether benchmarks/bench_trainers.py measures it by default.
    - ``LOGGED_LOSS_TERMS``: the loss terms its training step logs beside ``loss`` and ``acc``
      (every term of ``training_loss`` when there are several; () for a loss of one term).
    - ``image_batch_coupling(cfg)``: its model's ``batch_coupling`` under ``cfg``, read from
      the config without building the model (tests and tools choose their cases from it).
    - ``TRAINING_STEP_COUPLING``: what in its training step needs the whole batch rather than a
      mean over images, in words ("" when nothing does).
    - ``forward_moves_learnable(cfg)``: its model's ``forward_moves_learnable`` under ``cfg``.
    - ``PER_IMAGE_OPTIONS``: yacs options of its variant whose model neither couples a batch's
      images nor moves its learned tensors in a forward pass, when its published one does.
    - ``AUTHORS_CHECKPOINT_LAYOUT``: the name of the layout of its authors' checkpoints that
      tools/convert_authors_checkpoint.py converts ("independent", "coupled", "cross_modal",
      "context_only", "class_aware"); None when none converts.
    - ``AVERAGE_NAME``: the folder its running prompt-average sum is checkpointed in, when it
      keeps one (PromptSRC's).
    - ``FAMILY_CONFIG_ALIASES``: family config key (as its authors' configs write it, e.g.
      ``TRAINER.COOP.W``) -> ``run.config_aliases.Alias`` naming our key; ``trainers/__init__.py``
      registers it with ``run.config_aliases``. A boolean ``CTX_INIT`` needs no entry: it is read
      for every config node whose ``CTX_INIT`` is a phrase.

    A new method is also listed in ``trainers/__init__.py``'s ``TRAINERS``.
    """

    METHOD_CFG: str | None = None
    # the folder name CoOp-family checkpoints use; None: trains nothing
    LEARNER_NAME: str | None = "prompt_learner"
    NEEDS_VIT = False
    PUBLISHED_CONFIG: str | None = None
    PUBLISHED_NAME: str | None = None
    TINY_DEPTH_OPTIONS: tuple = ()
    evaluator: Any  # Dassl's, counted (run/prediction_counts.py) once test() runs
    IN_DEFAULT_BENCHMARK = True
    LOGGED_LOSS_TERMS: tuple[str, ...] = ()
    TRAINING_STEP_COUPLING = ""
    PER_IMAGE_OPTIONS: tuple = ()
    AUTHORS_CHECKPOINT_LAYOUT: str | None = None
    AVERAGE_NAME: str | None = None
    FAMILY_CONFIG_ALIASES: Mapping[str, Alias] = {}

    @classmethod
    def config_node(cls) -> CN:
        """The defaults of ``cfg.TRAINER.<METHOD_CFG>``; a method adds its keys to this."""
        node = CN()
        node.PREC = "fp16"  # fp16 (CLIP in half), fp32 or amp
        return node

    @classmethod
    def image_batch_coupling(cls, cfg: CN) -> tuple[str, ...]:
        return ()

    @classmethod
    def forward_moves_learnable(cls, cfg: CN) -> bool:
        return False

    @property
    def method_cfg(self) -> CN:
        return self.cfg.TRAINER[self.METHOD_CFG]

    def check_cfg(self, cfg: CN) -> None:
        check_precision(cfg.TRAINER[self.METHOD_CFG].PREC)
        check_prompt_template(cfg.DATASET.PROMPT_TEMPLATE)

    def build_custom_clip(self, classnames: list[str], clip_model: nn.Module) -> PromptedCLIP:
        raise NotImplementedError(f"{type(self).__name__} must implement build_custom_clip()")

    def build_data_loader(self):
        """Dassl's loaders, reading images as DATALOADER.CORRUPT_IMAGE_POLICY says."""
        check_corrupt_image_policy(self.cfg)
        dm = DataManager(self.cfg, dataset_wrapper=RobustDatasetWrapper)
        # the attributes Dassl's TrainerX.build_data_loader sets
        self.train_loader_x = dm.train_loader_x
        self.train_loader_u = dm.train_loader_u
        self.val_loader = dm.val_loader
        self.test_loader = dm.test_loader
        self.num_classes = dm.num_classes
        self.num_source_domains = dm.num_source_domains
        self.lab2cname = dm.lab2cname
        self.dm = dm
        self.distribute_data_loaders()

    def after_epoch(self):
        super().after_epoch()
        if self.cfg.TRAIN.RESUME_CHECKPOINT and is_main_process():
            save_resume_checkpoint(self)
        self.wait_for_main_process()

    def save_model(self, *args, **kwargs):
        with clear_write_errors(self.output_dir):
            super().save_model(*args, **kwargs)

    def before_train(self):
        super().before_train()
        # A run resumed after its last epoch trains none: its model is that of epoch start_epoch.
        self.epoch = self.start_epoch - 1

    def after_train(self):
        if not using_builtin_subset():
            print(
                "Finished training"
            )  # upstream prints only "Finish training"; forks wait for this
        super().after_train()

    def resume_model_if_exist(self, directory):
        names = self.get_model_names()
        unfinished = unfinished_model_dirs(directory, names)
        if unfinished:
            print(
                f"No complete checkpoint in {', '.join(unfinished)} (a run stopped before its "
                "first checkpoint was written), train from scratch"
            )
            return 0
        model_dirs = [os.path.join(directory, name) for name in names]
        if not point_at_common_readable_checkpoint(model_dirs):
            return 0
        return super().resume_model_if_exist(directory)

    def load_frozen_clip(self):
        """CLIP as ``cfg`` says (backbone, input size, precision), frozen, on the device; sets
        ``self.precision``."""
        cfg = self.cfg
        print(f"Loading CLIP (backbone: {cfg.MODEL.BACKBONE.NAME})")
        clip_model = load_clip_to_cpu(cfg.MODEL.BACKBONE.NAME)
        self.clip_weights_digest = weights_digest(clip_model.state_dict())  # for result.json
        if self.NEEDS_VIT:
            check_vit(cfg.TRAINER.NAME, clip_model=clip_model)
        check_input_size(cfg, clip_model)
        self.precision = resolve_precision(self.method_cfg.PREC, self.device)
        if self.precision != "fp16":
            clip_model.float()
        clip_model.requires_grad_(False)
        return clip_model.to(self.device)

    def build_model(self):
        cfg = self.cfg
        classnames = self.dm.dataset.classnames
        clip_model = self.load_frozen_clip()

        print("Building custom CLIP")
        self.model = self.build_custom_clip(classnames, clip_model)
        self.model.to(self.device)
        self.model.check_trained_parameters()
        if is_main_process():  # once the model is built: a refused run writes nothing
            write_class_list(self.output_dir, classnames)
        self.scaler = grad_scaler(self.precision, self.device)
        learnable = self.model.learnable
        if (learnable is None) != (self.LEARNER_NAME is None):
            raise TypeError(
                f"{type(self).__name__}.LEARNER_NAME is {self.LEARNER_NAME!r} but its model's "
                f"learnable is {'None' if learnable is None else 'set'}: both or neither"
            )
        if learnable is None:
            return
        if cfg.MODEL.INIT_WEIGHTS:
            load_pretrained_weights(learnable, cfg.MODEL.INIT_WEIGHTS)
        n_trained = sum(p.numel() for p in learnable.parameters() if p.requires_grad)
        print(f"Trained parameters: {n_trained:,} (CLIP frozen)")
        self.optim = build_prompt_optimizer(learnable, cfg.OPTIM)
        self.sched = build_lr_scheduler(self.optim, cfg.OPTIM)
        self.register_model(self.LEARNER_NAME, learnable, self.optim, self.sched)

    def autocast(self):
        return autocast(self.precision, self.device)

    def forward_backward(self, batch):
        image, label = self.parse_batch_train(batch)
        with self.autocast():
            logits, terms = self.model.training_loss(image, label)
        loss = total_loss(terms)
        loss, batch_loss = self.loss_of_batch(loss, len(label))  # as-is in a plain run
        check_finite_loss(batch_loss, f"at epoch {self.epoch + 1}, batch {self.batch_idx + 1}")
        if self.scaler is None:
            self.model_backward_and_update(loss)  # Dassl's step (anomaly check, all models)
        else:
            backward_and_step(loss, self.optim, self.scaler, self.synchronize_gradients)
        loss_summary = {"loss": batch_loss.item()}
        if len(terms) > 1:  # Dassl prints each entry every PRINT_FREQ and logs train/<name>
            loss_summary.update({name: term.item() for name, term in terms.items()})
        loss_summary["acc"] = compute_accuracy(logits, label)[0].item()
        if (self.batch_idx + 1) == self.num_batches:
            self.update_lr()
        return loss_summary

    def parse_batch_train(self, batch):
        # Dassl's TrainerX also returns the domain label, which no method here uses.
        return batch["img"].to(self.device), batch["label"].to(self.device)

    def model_inference(self, image: torch.Tensor) -> torch.Tensor:
        return self.model(image)

    def evaluation_split(self, split):
        """Dassl's rule: "val" when asked for and available, otherwise "test"."""
        split = split or self.cfg.TEST.SPLIT
        if split == "val" and self.val_loader is not None:
            return "val", self.val_loader
        return "test", self.test_loader

    @torch.no_grad()
    def test(self, split=None):
        self.set_model_mode("eval")
        if not isinstance(self.evaluator, CountedPredictions):
            self.evaluator = CountedPredictions(self.evaluator)
        self.evaluator.reset()
        split, data_loader = self.evaluation_split(split)
        print(f"Evaluate on the *{split}* set")
        predictions = self.prediction_collector()
        left_out = 0
        with self.autocast(), self.model.cached_text_features():
            for batch_index, batch in enumerate(tqdm(data_loader, disable=not is_main_process())):
                image, label = self.parse_batch_test(batch)
                with self.batch_coupling(data_loader, batch_index):
                    output = self.model_inference(image)
                output, label, replaced = readable_part(batch, output, label)
                left_out += replaced
                predictions.process(output, label)
        left_out = self.finish_predictions(predictions, left_out)
        if left_out:
            print(f"Note: {left_out} unreadable {split} images are left out of the results")
        if self.evaluator.total == 0:
            raise NothingEvaluated(
                f"The {split} set of {self.cfg.DATASET.NAME} is empty "
                f"(DATASET.SUBSAMPLE_CLASSES {self.cfg.DATASET.SUBSAMPLE_CLASSES}): nothing to "
                "evaluate, so no result is written. Check the split file."
            )
        results = self.evaluator.evaluate()
        for name, value in results.items():
            self.write_scalar(f"{split}/{name}", value, self.epoch)
        if split == "test" and is_main_process():
            record = test_result_record(
                self.cfg,
                results,
                split,
                self.epoch + 1,
                total=self.evaluator.total,
                correct=self.evaluator.correct,
                unreadable=left_out,
                clip_weights_digest=self.clip_weights_digest,
            )
            write_result_file(self.output_dir, record)
        return list(results.values())[0]

    def load_model(self, directory, epoch=None):
        if not directory:
            print("Note that load_model() is skipped as no pretrained model is given")
            return
        for name in self.get_model_names():
            path = checkpoint_path(directory, name, epoch)
            loaded_epoch = load_learned_state(
                self._models[name], path, class_bound_keys=self.model.class_bound_keys
            )
            print(f'Loading weights to {name} from "{path}" (epoch = {loaded_epoch})')
            if loaded_epoch is not None:
                self.epoch = loaded_epoch - 1  # Dassl stores epochs 1-based
