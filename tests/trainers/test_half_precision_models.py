"""Every method's model runs on an fp16 CLIP (PREC fp16, the family's default on a GPU)."""

import pytest
import torch
from clip.model import build_model

from prompting.prompted_clip import total_loss
from tests.trainers.helpers import make_trainer


@pytest.mark.parametrize(
    "trainer_name",
    ["ZeroshotCLIP", "CoOp", "CoCoOp", "KgCoOp", "IVLP", "MaPLe", "PromptSRC", "ProGrad", "TCP"],
)
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
        assert all(p.grad is not None for p in model.learnable.parameters())
