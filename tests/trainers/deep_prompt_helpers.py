"""Shared by the IVLP, MaPLe and PromptSRC tests: a deeper tiny CLIP, the toy options that fit
it, and the ViT-B/16 builds whose trained parameters are counted."""

import contextlib
import io
import os

import torch
from dassl.engine import TRAINER_REGISTRY

from benchmarks.method_models import VIT_B16
from run.config import project_cfg_default
from tests.trainers.helpers import REPO_ROOT
from tools.make_tiny_clip import build_tiny_clip

CLASSNAMES = ["red circle", "green square", "blue_triangle", "yellow cross"]
LABELS = torch.tensor([0, 1, 2, 3, 1])
# 3 blocks per encoder, so that a depth of 2 leaves a block after the last prompt set.
DEEPER_TINY = dict(transformer_layers=3, vision_layers=3)


def deeper_tiny_clip():
    """Frozen, as the trainer hands CLIP to a method."""
    return build_tiny_clip(**DEEPER_TINY).requires_grad_(False)


def images():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(5, 3, 32, 32, generator=generator)


def perturb(module, seed=0):
    """Move every parameter away from its initial value (identical or zero starts hide bugs)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.add_(0.05 * torch.randn(param.shape, generator=generator))


def vit_b16_trained_count(trainer_name, config_name):
    """Trained parameters of ``trainer_name``'s model, built by its trainer from its config
    ``configs/trainers/<trainer_name>/<config_name>`` on a random CLIP of ViT-B/16 shapes."""
    trainer_class = TRAINER_REGISTRY.get(trainer_name)
    cfg = project_cfg_default()
    cfg.merge_from_file(os.path.join(REPO_ROOT, "configs", "trainers", trainer_name, config_name))
    cfg.freeze()
    builder = trainer_class.__new__(trainer_class)  # build_custom_clip reads only cfg
    builder.cfg = cfg
    clip_model = build_tiny_clip(seed=0, **VIT_B16).requires_grad_(False)
    with contextlib.redirect_stdout(io.StringIO()):
        return trained_count(builder.build_custom_clip(["cat", "dog"], clip_model))


def trained_count(model):
    return sum(p.numel() for p in model.learnable.parameters() if p.requires_grad)
