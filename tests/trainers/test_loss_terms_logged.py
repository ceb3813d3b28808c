"""Each term of a multi-term loss is logged as Dassl logs its loss summary: on the console every
PRINT_FREQ batches and as a tensorboard scalar train/<term>."""

import re

import pytest

from tests.trainers.helpers import make_trainer

TERMS = {
    "KgCoOp": ("ce", "kg"),
    "SEP": ("ce", "text_consistency", "visual_consistency", "prototype"),
    "PromptSRC": ("ce", "text", "image", "logits"),
    "CoOp": (),  # one term: the loss alone
    "TCP": ("ce", "kg"),
}


def meter_values(line, name):
    """The current value of meter ``name`` in a progress line ("name 1.2345 (1.0000)")."""
    match = re.search(rf"(?<![\w]){name} (-?[\d.]+(?:e-?\d+)?) \(", line)
    return None if match is None else float(match.group(1))


@pytest.mark.parametrize(
    "trainer_name",
    ["CoOp", "KgCoOp", "PromptSRC", "TCP", pytest.param("SEP", marks=pytest.mark.slow)],
)
def test_every_loss_term_is_printed_and_written_to_tensorboard(trainer_name, toy, tmp_path, capsys):
    trainer = make_trainer(trainer_name, toy, tmp_path, "TRAIN.PRINT_FREQ", 1)
    scalars = []
    trainer.write_scalar = lambda tag, value, step=None: scalars.append(tag)
    capsys.readouterr()
    trainer.run_epoch()
    lines = [line for line in capsys.readouterr().out.splitlines() if "batch [" in line]
    assert len(lines) == trainer.num_batches  # PRINT_FREQ 1: every batch
    terms = TERMS[trainer_name]
    for line in lines:
        values = [meter_values(line, name) for name in terms]
        assert None not in values, line
        if terms:  # the printed loss is the sum of the printed terms (4 decimals each)
            assert meter_values(line, "loss") == pytest.approx(sum(values), abs=1e-3)
    logged = set(scalars)
    assert {"train/loss", "train/acc"} <= logged
    assert {f"train/{name}" for name in terms} <= logged
    assert ("train/ce" in logged) == bool(terms)


def test_prograd_logs_the_task_loss_it_descends_and_the_distillation_term(toy, tmp_path, capsys):
    trainer = make_trainer("ProGrad", toy, tmp_path, "TRAIN.PRINT_FREQ", 1)
    scalars = []
    trainer.write_scalar = lambda tag, value, step=None: scalars.append(tag)
    capsys.readouterr()
    trainer.run_epoch()
    lines = [line for line in capsys.readouterr().out.splitlines() if "batch [" in line]
    assert len(lines) == trainer.num_batches
    for line in lines:
        assert meter_values(line, "loss") is not None and meter_values(line, "kl") is not None
    assert {"train/loss", "train/kl", "train/acc"} <= set(scalars)
