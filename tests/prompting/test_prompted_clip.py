"""The prompted-CLIP protocol: the build-time check of what is trained, and the loss terms."""

import pytest
import torch
import torch.nn as nn

from prompting.prompted_clip import PromptedCLIP, StrayTrainableTensors, total_loss


class TwoModules(PromptedCLIP):
    def __init__(self, clip_model):
        super().__init__(clip_model)
        clip_model.requires_grad_(False)
        self.learnable = nn.Linear(2, 2)
        self.outside = nn.Linear(2, 2)


def test_trained_tensors_must_be_exactly_the_learnable_parameters(tiny_clip):
    model = TwoModules(tiny_clip)
    with pytest.raises(StrayTrainableTensors, match=r"\['outside.bias', 'outside.weight'\]"):
        model.check_trained_parameters()
    model.outside.requires_grad_(False)
    model.check_trained_parameters()
    model.learnable.bias.requires_grad_(False)
    with pytest.raises(StrayTrainableTensors, match=r"learnable's \['learnable.bias'\]"):
        model.check_trained_parameters()


def test_an_unfrozen_clip_tensor_is_named(tiny_clip):
    model = TwoModules(tiny_clip)
    model.outside.requires_grad_(False)
    tiny_clip.visual.ln_post.weight.requires_grad_(True)
    with pytest.raises(StrayTrainableTensors, match=r"image_encoder.ln_post.weight"):
        model.check_trained_parameters()


def test_nothing_learnable_means_nothing_trained(tiny_clip):
    model = PromptedCLIP(tiny_clip)
    with pytest.raises(StrayTrainableTensors, match="image_encoder.conv1.weight"):
        model.check_trained_parameters()  # CLIP not frozen
    tiny_clip.requires_grad_(False)
    model.check_trained_parameters()


def test_missing_methods_raise_naming_them(tiny_clip):
    model = PromptedCLIP(tiny_clip)
    with pytest.raises(NotImplementedError, match="compute_text_features"):
        model.text_features()
    with pytest.raises(NotImplementedError, match="forward"):
        model(torch.zeros(1, 3, 32, 32))


def test_the_loss_is_the_sum_of_its_terms():
    terms = {"ce": torch.tensor(1.5), "kg": torch.tensor(0.25)}
    assert total_loss(terms).item() == 1.75
