"""Each trainer logs exactly the loss terms it declares (``LOGGED_LOSS_TERMS``), as Dassl logs its
loss summary: on the console every PRINT_FREQ batches and as a tensorboard scalar
train/<term>; each is a finite value, and where a method logs the terms of its loss, the printed
loss is their sum."""

import math
import re

import pytest

import trainers
from tests.tolerances import fp32_sum_rtol, last_decimal_atol
from tests.trainers.helpers import TRAINED_METHODS, make_trainer

# what every training step logs besides its declared terms
ALWAYS_LOGGED = {"loss", "acc", "lr"}
TIME_METERS = {"time", "data"}
# the fast set: the first method that logs one term and the first that logs several
FAST = {
    next(name for name in TRAINED_METHODS if not trainers.trainer_class(name).LOGGED_LOSS_TERMS),
    next(name for name in TRAINED_METHODS if trainers.trainer_class(name).LOGGED_LOSS_TERMS),
}

# Dassl's MetricMeter prints each meter with 4 decimals ({:.4f}): the real Dassl and the
# built-in subset alike.
METER_DECIMALS = 4


def meter_values(line, name):
    """The current value of meter ``name`` in a progress line ("name 1.2345 (1.0000)")."""
    match = re.search(rf"(?<![\w]){name} (-?[\d.]+(?:e-?\d+)?) \(", line)
    return None if match is None else float(match.group(1))


def printed_meters(line):
    """Names of the meters a progress line prints ("name value (average)")."""
    return set(re.findall(r"(?<![\w])(\w+) -?[\d.]+(?:e-?\d+)? \(", line))


@pytest.mark.parametrize(
    "trainer_name",
    [
        pytest.param(name, marks=() if name in FAST else pytest.mark.slow)
        for name in TRAINED_METHODS
    ],
)
def test_the_declared_loss_terms_are_what_is_printed_and_written_to_tensorboard(
    trainer_name, toy, tmp_path, capsys
):
    trainer = make_trainer(trainer_name, toy, tmp_path, "TRAIN.PRINT_FREQ", 1)
    terms = trainers.trainer_class(trainer_name).LOGGED_LOSS_TERMS
    scalars = []
    trainer.write_scalar = lambda tag, value, step=None: scalars.append(tag)
    capsys.readouterr()
    trainer.run_epoch()
    lines = [line for line in capsys.readouterr().out.splitlines() if "batch [" in line]
    assert len(lines) == trainer.num_batches  # PRINT_FREQ 1: every batch
    for line in lines:
        values = [meter_values(line, name) for name in terms]
        assert None not in values, line
        assert all(math.isfinite(value) for value in values), line
        # the meters printed are exactly the declared terms, the loss and the accuracy, after
        # Dassl's time meters (lr follows without an average)
        assert printed_meters(line) - TIME_METERS == set(terms) | {"loss", "acc"}, line
        if len(terms) > 1:  # the printed loss is the sum of the printed terms: each printed
            # value is rounded to METER_DECIMALS (the loss's own included), and the loss is the
            # fp32 sum of the unrounded terms
            rounding = (len(terms) + 1) * last_decimal_atol(METER_DECIMALS)
            summing = fp32_sum_rtol(len(terms)) * sum(abs(value) for value in values)
            assert meter_values(line, "loss") == pytest.approx(sum(values), abs=rounding + summing)
    logged = {tag.removeprefix("train/") for tag in scalars if tag.startswith("train/")}
    assert logged == set(terms) | ALWAYS_LOGGED
