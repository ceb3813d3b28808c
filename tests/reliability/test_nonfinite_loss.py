"""A NaN or infinite loss stops training with the step and the likely cause, as one message."""

import os

import pytest

from prompting.prompted_clip import PromptedCLIP
from tests.reliability.train_args import toy_argv


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf")])
def test_non_finite_loss_stops_training_naming_the_step_and_the_cause(
    toy, tmp_path, run_train, monkeypatch, bad_value
):
    original = PromptedCLIP.training_loss
    steps = []

    def diverging_loss(self, image, label):
        logits, terms = original(self, image, label)
        steps.append(1)
        return logits, {"ce": terms["ce"] * bad_value} if len(steps) == 2 else terms

    monkeypatch.setattr(PromptedCLIP, "training_loss", diverging_loss)
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, "DATALOADER.TRAIN_X.BATCH_SIZE", 2))
    assert result.status == 2
    assert f"Error: Loss is {bad_value} at epoch 1, batch 2." in result.err
    assert "OPTIM.EPS" in result.err and "learning rate" in result.err
    assert len(steps) == 2  # stopped at once
    assert not os.path.exists(output_dir / "prompt_learner" / "checkpoint")
    assert not os.path.exists(output_dir / "result.json")
