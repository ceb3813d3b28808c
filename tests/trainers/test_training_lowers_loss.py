"""A few optimiser steps of each method, through its trainer's own step, lower its loss."""

import pytest

from tests.trainers.helpers import (
    NO_WARMUP,
    TRAINED_METHODS,
    fixed_batch,
    make_trainer,
    training_losses,
)

# ProGrad on the tiny random CLIP: zero-shot CLIP's predictions have nothing to do with the toy
# labels, the distillation gradient points almost opposite the task's (cosine -0.99), and the
# small projected remainder does not lower the loss within 8 steps; its step is checked against
# its equation in test_prograd.py, and here its loop with the projection off (CoOp's step).
METHOD_OPTIONS = {"ProGrad": ("TRAINER.PROGRAD.LAMBDA", 0.0)}


@pytest.mark.parametrize("trainer_name", TRAINED_METHODS)
def test_loss_decreases_on_a_fixed_batch(trainer_name, toy, tmp_path):
    options = METHOD_OPTIONS.get(trainer_name, ())
    trainer = make_trainer(trainer_name, toy, tmp_path, *NO_WARMUP, *options)
    image, label = fixed_batch(trainer)
    losses = training_losses(trainer, image, label, steps=8)
    assert losses[-1] < losses[0] - 0.05, losses
