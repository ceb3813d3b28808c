"""Build the baseline trainers as train.py does, on the toy Caltech101 and the tiny CLIP."""

import json
import os

import torch
from dassl.engine import build_trainer

import datasets  # noqa: F401  (registers the datasets)
import trainers
from prompting.prompted_clip import total_loss
from run.config import project_cfg_default
from run.untrusted_files import load_checkpoint_file
from tests.tolerances import assert_close_in_norm, bf16_autocast_error
from trainers import tiny_depth_options

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TRAINERS = trainers.method_table()  # trainer name -> (config node, published config)
TRAINED_METHODS = [trainer.__name__ for trainer in trainers.TRAINERS if trainer.LEARNER_NAME]
TEST_BATCH_SIZE = 4
# The published learning rate from the first step (warm-up runs at 1e-5 for a whole epoch).
NO_WARMUP = ("OPTIM.WARMUP_EPOCH", 0)


def published_cfg(trainer_name):
    """The project's defaults with ``trainer_name``'s published config merged (no data needed)."""
    cfg = project_cfg_default()
    cfg.merge_from_file(os.path.join(REPO_ROOT, "configs", "trainers", TRAINERS[trainer_name][1]))
    return cfg


# Trained methods whose published model couples the images of a batch, as their trainers declare.
BATCH_COUPLED_METHODS = [
    name
    for name in TRAINED_METHODS
    if trainers.trainer_class(name).image_batch_coupling(published_cfg(name))
]


def trainer_cfg(trainer_name, toy, output_dir, *opts, subsample="base", prec="fp32"):
    """The published config of ``trainer_name`` shrunk to the toy data: 2 shots, 1 epoch, CPU."""
    node, config_file = TRAINERS[trainer_name]
    cfg = project_cfg_default()
    cfg.merge_from_file(os.path.join(REPO_ROOT, "configs", "datasets", "caltech101.yaml"))
    cfg.merge_from_file(os.path.join(REPO_ROOT, "configs", "trainers", config_file))
    cfg.merge_from_list(
        [
            "TRAINER.NAME",
            trainer_name,
            "DATASET.ROOT",
            toy.root,
            "DATASET.NUM_SHOTS",
            2,
            "DATASET.SUBSAMPLE_CLASSES",
            subsample,
            "MODEL.BACKBONE.NAME",
            toy.tiny_clip_path,
            "INPUT.SIZE",
            (32, 32),
            "DATALOADER.NUM_WORKERS",
            0,
            "DATALOADER.TRAIN_X.BATCH_SIZE",
            4,
            "DATALOADER.TEST.BATCH_SIZE",
            TEST_BATCH_SIZE,
            "OPTIM.MAX_EPOCH",
            1,
            "OUTPUT_DIR",
            str(output_dir),
            "SEED",
            1,
            f"TRAINER.{node}.PREC",
            prec,
        ]
    )
    cfg.merge_from_list([*tiny_depth_options(trainer_name), *opts])
    cfg.freeze()
    return cfg


def make_trainer(trainer_name, toy, output_dir, *opts, subsample="base", prec="fp32"):
    torch.manual_seed(0)  # random context / meta-net initialisation
    return build_trainer(
        trainer_cfg(trainer_name, toy, output_dir, *opts, subsample=subsample, prec=prec)
    )


def fixed_batch(trainer):
    """One test-transformed batch (no random augmentation) of the training images."""
    batch = next(iter(trainer.test_loader))
    return batch["img"].to(trainer.device), batch["label"].to(trainer.device)


def training_losses(trainer, image, label, steps):
    """Losses of ``steps`` optimiser steps on the same batch, through the trainer's own step."""
    trainer.set_model_mode("train")
    trainer.batch_idx, trainer.num_batches = 0, steps + 1  # never the epoch's last batch
    batch = {"img": image, "label": label}
    return [trainer.forward_backward(batch)["loss"] for _ in range(steps)]


def trained_parameter_names(trainer):
    return {name for name, p in trainer.model.named_parameters() if p.requires_grad}


def optimised_parameters(trainer):
    return {id(p) for group in trainer.optim.param_groups for p in group["params"]}


def count_calls(obj, method_name):
    """Wrap ``obj.method_name`` so that calls are counted; returns the list that grows per call."""
    calls = []
    original = getattr(obj, method_name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    setattr(obj, method_name, counted)
    return calls


def saved_state_dict(output_dir, epoch=1):
    path = os.path.join(output_dir, "prompt_learner", f"model.pth.tar-{epoch}")
    return load_checkpoint_file(path)["state_dict"]


def check_base_model_evaluates_on_new_classes(trainer_name, toy, tmp_path, expected_keys):
    """Train on the base classes, then load the checkpoint into a new-class model and test it.

    Returns (base trainer, new trainer) for method-specific checks.
    """
    base_dir = tmp_path / "base"
    base = make_trainer(trainer_name, toy, base_dir, "TEST.NO_TEST", True)
    base.train()
    assert set(saved_state_dict(base_dir)) == set(expected_keys)

    new = make_trainer(trainer_name, toy, tmp_path / "new", subsample="new")
    assert new.dm.dataset.classnames != base.dm.dataset.classnames
    new.load_model(str(base_dir))
    new_state = new.model.learnable.state_dict()
    for key, value in base.model.learnable.state_dict().items():
        assert torch.equal(new_state[key], value), key
    accuracy = new.test()
    assert 0.0 <= accuracy <= 100.0
    with open(tmp_path / "new" / "result.json") as f:
        record = json.load(f)
    assert record["subsample"] == "new"
    assert record["method"] == trainer_name
    assert record["total"] == len(new.dm.dataset.test)
    return base, new


def record_output_dtypes(modules):
    """Forward hooks recording each module's output dtype; returns (dtypes, hook handles)."""
    dtypes = {}

    def hook(name):
        def record(module, inputs, output):
            output = output[0] if isinstance(output, tuple) else output
            dtypes.setdefault(name, set()).add(output.dtype)

        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in modules.items()]
    return dtypes, handles


def check_amp_matches_fp32(trainer_name, toy, output_dir):
    """PREC amp on the CPU runs CLIP under bf16 autocast: the logits stay within bf16's forward
    error of fp32 (tests/tolerances.py), the loss is finite, and it trains.

    Returns the (fp32 loss, amp loss) pair.
    """
    trainer = make_trainer(trainer_name, toy, output_dir, *NO_WARMUP, prec="amp")
    assert trainer.precision == "amp"
    image, label = fixed_batch(trainer)
    visual_block = trainer.model.image_encoder.transformer.resblocks[0].mlp.c_fc
    with torch.no_grad():
        logits_fp32, terms = trainer.model.training_loss(image, label)
        loss_fp32 = total_loss(terms)
        dtypes, handles = record_output_dtypes({"visual block": visual_block})
        try:
            with trainer.autocast():
                logits, terms = trainer.model.training_loss(image, label)
                loss_amp = total_loss(terms)
        finally:
            for handle in handles:
                handle.remove()
    assert dtypes == {"visual block": {torch.bfloat16}}  # autocast ran inside CLIP
    assert logits.dtype == torch.bfloat16
    model = trainer.model
    blocks = len(model.image_encoder.transformer.resblocks)
    blocks += len(model.text_encoder.transformer.resblocks)
    # a method adds at most one module per CLIP block on a logit's path (prompted_clip_size)
    rtol = bf16_autocast_error(2 * blocks)
    assert_close_in_norm(logits.float(), logits_fp32, rtol, f"{trainer_name} amp logits")
    assert torch.isfinite(loss_amp)

    learnable_before = [p.detach().clone() for p in trainer.model.learnable.parameters()]
    losses = training_losses(trainer, image, label, steps=2)
    assert all(torch.isfinite(torch.tensor(losses)))
    for before, after in zip(learnable_before, trainer.model.learnable.parameters()):
        assert after.dtype == torch.float32  # master weights stay fp32
        assert not torch.equal(before, after)
    return loss_fp32.item(), loss_amp.item()
