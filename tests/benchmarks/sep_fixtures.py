"""A SEP model on the tiny CLIP with non-trivial learned state, and result comparisons."""

import torch

from prompting.prompted_clip import total_loss
from run.config import project_cfg_default
from tests.tolerances import assert_close_in_norm
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


def assert_same_grads(grads, expected, rtol):
    """Every gradient within ``rtol`` of the expected one, in norm (0: identical)."""
    assert grads.keys() == expected.keys()
    for name in expected:
        assert_close_in_norm(grads[name], expected[name], rtol, name)
