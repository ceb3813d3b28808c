"""The methods' models on a randomly initialised CLIP, built as their trainers build them.

No weights are downloaded and no data is read: CLIP has the chosen architecture's shapes and
random weights (speed and memory do not depend on the values), class names are ImageNet's, and
each model comes from its trainer's own ``build_custom_clip`` with the published config, so the
benchmark measures exactly what a training run executes.
"""

import contextlib
import io
import os
from dataclasses import dataclass

import dassl_setup  # noqa: F401  (before any dassl import)

# isort: split
import torch
from clip.model import convert_weights
from dassl.engine import TRAINER_REGISTRY

import trainers
from prompting.prompted_clip import total_loss
from run.config import project_cfg_default
from run.precision import autocast, backward_and_step, grad_scaler, resolve_precision
from tools.make_tiny_clip import TINY_VIT, build_tiny_clip
from trainers.prompt_trainer import build_prompt_optimizer, check_finite_loss

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# CLIP ViT-B/16 (clip.model.build_model's reading of the official checkpoint).
VIT_B16 = dict(
    embed_dim=512,
    image_resolution=224,
    vision_layers=12,
    vision_width=768,
    vision_patch_size=16,
    context_length=77,
    vocab_size=49408,
    transformer_width=512,
    transformer_heads=8,
    transformer_layers=12,
)
# CLIP ViT-L/14 (the same reading), for the backbone memory comparison.
VIT_L14 = dict(
    VIT_B16,
    embed_dim=768,
    vision_layers=24,
    vision_width=1024,
    vision_patch_size=14,
    transformer_width=768,
    transformer_heads=12,
)
ARCHITECTURES = {"tiny": TINY_VIT, "vit_b16": VIT_B16, "vit_l14": VIT_L14}

METHODS = trainers.method_table()  # trainer name -> (config node, published config)
# Template table entry used for the frozen text features (KgCoOp's and SEP's g0).
DATASET_NAME = "ImageNet"


def imagenet_classnames(n_classes):
    """ImageNet's class names (as torchvision lists them), cycled with a suffix beyond 1000.

    Their token lengths decide how long the prompts are, so real names are used, not "class 7".
    """
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    names = list(_IMAGENET_CATEGORIES)
    return [
        names[i % len(names)] if i < len(names) else f"{names[i % len(names)]} {i // len(names)}"
        for i in range(n_classes)
    ]


def clip_dtype_key(precision):
    """fp16 runs CLIP's weights in half (as loaded); fp32 and amp keep them in float."""
    return "fp16" if precision == "fp16" else "fp32"


def build_random_clip(arch, precision, device):
    """A frozen CLIP with ``arch``'s shapes and random weights, as PromptTrainer prepares it."""
    clip_model = build_tiny_clip(seed=0, **ARCHITECTURES[arch])
    if precision == "fp16":
        convert_weights(clip_model)  # the dtypes of a loaded official checkpoint
    clip_model.requires_grad_(False)
    return clip_model.to(device)


def method_cfg(method, arch, precision, overrides=()):
    """The project config with ``method``'s published config merged and PREC set."""
    node, config_file = METHODS[method]
    cfg = project_cfg_default()
    path = os.path.join(REPO_ROOT, "configs", "trainers", config_file)
    if os.path.isfile(path):
        cfg.merge_from_file(path)
    resolution = ARCHITECTURES[arch]["image_resolution"]
    cfg.merge_from_list(
        [
            "TRAINER.NAME",
            method,
            "DATASET.NAME",
            DATASET_NAME,
            "MODEL.BACKBONE.NAME",
            f"random-{arch}",
            "INPUT.SIZE",
            (resolution, resolution),
            f"TRAINER.{node}.PREC",
            precision,
            *(trainers.tiny_depth_options(method) if arch == "tiny" else ()),
            *overrides,
        ]
    )
    cfg.freeze()
    return cfg


@dataclass
class BuiltMethod:
    model: torch.nn.Module
    optimizer: object  # None for zero-shot CLIP
    scaler: object  # GradScaler for amp on CUDA, else None
    precision: str
    device: torch.device

    @property
    def trained_parameters(self):
        learnable = self.model.learnable
        if learnable is None:
            return 0
        return sum(p.numel() for p in learnable.parameters() if p.requires_grad)

    def autocast(self):
        return autocast(self.precision, self.device)


def build_method(method, cfg, classnames, clip_model, device):
    """``method``'s model via its trainer's ``build_custom_clip`` (no data, no Dassl loop)."""
    trainer_class = TRAINER_REGISTRY.get(method)
    builder = trainer_class.__new__(trainer_class)  # only build_custom_clip is used: it reads cfg
    builder.cfg = cfg
    precision = resolve_precision(cfg.TRAINER[trainer_class.METHOD_CFG].PREC, device)
    with contextlib.redirect_stdout(io.StringIO()):  # the trainers' build messages
        model = builder.build_custom_clip(classnames, clip_model)
    model.to(device)
    optimizer = None
    if model.learnable is not None:
        optimizer = build_prompt_optimizer(model.learnable, cfg.OPTIM)
    return BuiltMethod(model, optimizer, grad_scaler(precision, device), precision, device)


def train_step(built, image, label):
    """One optimiser step as PromptTrainer.forward_backward takes it (its shared helpers)."""
    with built.autocast():
        _, terms = built.model.training_loss(image, label)
        loss = total_loss(terms)
    check_finite_loss(loss, "in the benchmark's training step")
    backward_and_step(loss, built.optimizer, built.scaler)
    return loss.item()


def set_mode(built, training):
    """Dassl's set_model_mode: only the registered (learnable) module changes mode."""
    if built.model.learnable is not None:
        built.model.learnable.train(training)
