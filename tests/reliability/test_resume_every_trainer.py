"""Every trained method, stopped after a completed epoch and started again in the same folder,
ends bit-identical to an uninterrupted run: weights (SEP's prototypes included), optimiser and
scheduler state, and the result file.

In-process: the stop is an exception raised right after an epoch's checkpoint is on disk, as a
kill at that moment leaves the folder (tests/reliability/test_resume_after_kill.py kills a real
train.py with SIGKILL). ZeroshotCLIP trains nothing, so it has nothing to resume.
"""

import json
import os

import pytest
import torch

from run.untrusted_files import load_checkpoint_file
from tests.trainers.helpers import TRAINED_METHODS, make_trainer

EPOCHS = 2
# 4 shots of the 3 base classes, batch 4: three optimiser steps per epoch
OPTIONS = ("DATASET.NUM_SHOTS", 4, "OPTIM.MAX_EPOCH", EPOCHS, "OPTIM.WARMUP_EPOCH", 0)


class Stopped(Exception):
    pass


def stop_after_epoch(trainer, stop_epoch):
    after_epoch = trainer.after_epoch

    def after_epoch_then_stop():
        after_epoch()  # Dassl's saving and the resumable checkpoint
        if trainer.epoch + 1 == stop_epoch:
            raise Stopped

    trainer.after_epoch = after_epoch_then_stop


def final_state(output_dir):
    with open(os.path.join(output_dir, "result.json")) as file:
        record = json.load(file)
    del record["config_digest"]  # it hashes OUTPUT_DIR too
    path = os.path.join(output_dir, "prompt_learner", f"model.pth.tar-{EPOCHS}")
    checkpoint = load_checkpoint_file(path)
    return record, checkpoint


def assert_identical(actual, expected, where):
    if isinstance(expected, torch.Tensor):
        assert torch.equal(actual, expected), where
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys(), where
        for key in expected:
            assert_identical(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), where
        for index, (a, e) in enumerate(zip(actual, expected)):
            assert_identical(a, e, f"{where}[{index}]")
    else:
        assert actual == expected, where


# about 5-10 s each on 2 CPU cores (three trainer builds, two evaluations): the first method
# stays in the fast set, the others are slow
@pytest.mark.parametrize(
    "trainer_name",
    [
        TRAINED_METHODS[0],
        *(pytest.param(name, marks=pytest.mark.slow) for name in TRAINED_METHODS[1:]),
    ],
)
def test_run_stopped_after_an_epoch_resumes_to_the_uninterrupted_result(
    trainer_name, toy, tmp_path
):
    make_trainer(trainer_name, toy, tmp_path / "uninterrupted", *OPTIONS).train()

    stopped = make_trainer(trainer_name, toy, tmp_path / "interrupted", *OPTIONS)
    initial = {key: value.clone() for key, value in stopped.model.learnable.state_dict().items()}
    stop_after_epoch(stopped, 1)
    with pytest.raises(Stopped):
        stopped.train()
    assert not os.path.exists(tmp_path / "interrupted" / "result.json")
    resumed = make_trainer(trainer_name, toy, tmp_path / "interrupted", *OPTIONS)
    resumed.train()
    assert resumed.start_epoch == 1  # it did resume, from the stopped run's checkpoint

    record, checkpoint = final_state(tmp_path / "interrupted")
    expected_record, expected_checkpoint = final_state(tmp_path / "uninterrupted")
    assert record == expected_record
    for key in ("state_dict", "optimizer", "scheduler", "epoch"):
        assert_identical(checkpoint[key], expected_checkpoint[key], key)
    # the trained weights moved: the comparison is not between two untouched initialisations
    changed = [
        key
        for key, value in initial.items()
        if not torch.equal(value, expected_checkpoint["state_dict"][key])
    ]
    assert changed
    # class-bound tensors (SEP's prototypes) are trained and restored over the new init too
    assert set(resumed.model.class_bound_keys) <= set(changed)
