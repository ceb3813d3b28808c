"""A SEP model on the tiny CLIP with non-trivial learned state, and result comparisons."""

import torch

from prompting.prompted_clip import total_loss
from run.config import project_cfg_default
from trainers.sep import sep_model

# Names of different token lengths: the longest decides how far the text blocks run.
CLASSNAMES = ["tench", "great white shark", "American Staffordshire Terrier", "red circle"]
LABELS = torch.tensor([0, 1, 2, 3, 2])


def build_sep(clip_model, **overrides):
    cfg = project_cfg_default().TRAINER.SEP.clone()
    for key, value in overrides.items():
        cfg[key] = value
    torch.manual_seed(0)
    model = sep_model(clip_model, CLASSNAMES, "ImageNet", cfg)
    with torch.no_grad():  # learned state away from its initialisation
        model.learnable.prototype.weight.normal_()
        for name, param in model.learnable.named_parameters():
            if "scale" in name:
                param.uniform_(0.2, 0.9)
    return model


def make_images():
    return torch.randn(5, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def loss_and_grads(model, images):
    model.learnable.zero_grad()
    logits, terms = model.training_loss(images, LABELS)
    loss = total_loss(terms)
    loss.backward()
    grads = {name: p.grad.clone() for name, p in model.learnable.named_parameters()}
    return logits.detach(), loss.detach(), grads


def assert_close_to_scale(actual, expected, tolerance, name=""):
    """Max |actual - expected| at most ``tolerance`` times the largest |expected| entry: fp32
    rounding differs where a gradient entry is large, so an entry-wise rtol would be unfair."""
    scale = expected.abs().max().item()
    difference = (actual - expected).abs().max().item()
    assert difference <= tolerance * scale, f"{name}: {difference:.3g} > {tolerance} * {scale:.3g}"


def assert_same_grads(grads, expected, tolerance):
    assert grads.keys() == expected.keys()
    for name in expected:
        assert_close_to_scale(grads[name], expected[name], tolerance, name)
