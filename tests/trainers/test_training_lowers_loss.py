"""A few optimiser steps of each method, through its trainer's own step, lower its loss."""

import pytest

from tests.trainers.helpers import (
    NO_WARMUP,
    TRAINED_METHODS,
    fixed_batch,
    make_trainer,
    training_losses,
)


@pytest.mark.parametrize("trainer_name", TRAINED_METHODS)
def test_loss_decreases_on_a_fixed_batch(trainer_name, toy, tmp_path):
    trainer = make_trainer(trainer_name, toy, tmp_path, *NO_WARMUP)
    image, label = fixed_batch(trainer)
    losses = training_losses(trainer, image, label, steps=8)
    assert losses[-1] < losses[0] - 0.05, losses
