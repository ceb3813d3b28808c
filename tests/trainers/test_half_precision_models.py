"""Every method's model runs on an fp16 CLIP (PREC fp16, the family's default on a GPU)."""

import pytest
import torch
from clip.model import build_model

import trainers
from prompting.prompted_clip import total_loss
from tests.trainers.helpers import make_trainer


@pytest.mark.parametrize("trainer_name", [trainer.__name__ for trainer in trainers.TRAINERS])
def test_model_trains_and_predicts_on_an_fp16_clip(trainer_name, toy, tmp_path, tiny_clip):
    trainer = make_trainer(trainer_name, toy, tmp_path)  # fp32 on the CPU; rebuild on fp16 CLIP
    clip16 = build_model(tiny_clip.state_dict())  # fp16 weights, as loading an official file
    clip16.requires_grad_(False)
    model = trainer.build_custom_clip(trainer.dm.dataset.classnames, clip16)
    image = torch.randn(2, 3, 32, 32)
    label = torch.tensor([0, 1])
    logits, terms = model.training_loss(image, label)
    loss = total_loss(terms)
    assert logits.shape == (2, trainer.dm.num_classes)
    assert torch.isfinite(loss)
    if model.learnable is not None:
        loss.backward()
        grads = [p.grad for p in model.learnable.parameters() if p.grad is not None]
        # HiCroPL's default (in-place) flow leaves its proxies and mappers without a gradient, as
        # the authors' code does (tests/trainers/test_hicropl.py); every other method's tensors
        # all get one (their own tests).
        assert grads and all(torch.isfinite(grad).all() for grad in grads)
