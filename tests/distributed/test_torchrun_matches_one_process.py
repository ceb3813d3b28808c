"""``torchrun --nproc_per_node 2 train.py`` (gloo, CPU) against ``python train.py`` with the same
global batch: the same weights (to float rounding), losses and test result, for every trained
method, those whose model couples the images of a batch (``image_batch_coupling``, e.g. SEP's
reference attention axis and batch-mode selection) or whose training step needs the whole batch
(``TRAINING_STEP_COUPLING``, ProGrad's projection) included: the coupled computation gathers the
whole batch. A killed distributed run resumes to the uninterrupted one; an impossible split is one
``Error:`` line."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from prompting.clip_loading import load_clip_to_cpu
from tests.reliability.train_args import REPO_ROOT, toy_argv, train_quietly
from tests.tolerances import assert_close_in_norm, fp32_gradient_rtol, prompted_clip_size
from tests.trainers.helpers import BATCH_COUPLED_METHODS, TRAINED_METHODS

# 12 training images in 3 batches of 4 (2 per process); resized, not randomly cropped: with
# random augmentation each process would draw other crops than one process does.
EXACT_OPTIONS = (
    "DATASET.NUM_SHOTS",
    4,
    "DATALOADER.TRAIN_X.BATCH_SIZE",
    4,
    "INPUT.TRANSFORMS",
    '["center_crop", "normalize"]',
)
STEPS_PER_EPOCH = 3


def trained_weights_rtol(clip_model, epochs):
    """The two runs sum the batch's gradients in another order, so each step's gradient carries
    the fp32 gradient error of the blocks on a logit's path of the prompted CLIP. Each step moves
    the weights by less than their size, so it adds at most that relative error to them: one
    such error per step."""
    return epochs * STEPS_PER_EPOCH * fp32_gradient_rtol(*prompted_clip_size(clip_model))


def torchrun_command(argv, processes=2):
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={processes}",
        "train.py",
        *map(str, argv),
    ]


def torchrun(argv, processes=2):
    return subprocess.run(
        torchrun_command(argv, processes),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,  # a deadlock fails the test rather than hangs it
    )


def one_process(argv):
    status, output = train_quietly(argv)
    assert status == 0, output[-3000:]


def final_state(output_dir, epochs):
    record = json.loads((output_dir / "result.json").read_text())
    del record["config_digest"]  # it hashes OUTPUT_DIR too
    checkpoint = torch.load(
        output_dir / "prompt_learner" / f"model.pth.tar-{epochs}",
        map_location="cpu",
        weights_only=True,
    )
    return record, checkpoint["state_dict"]


def logged_losses(output_dir):
    return [
        float(value)
        for value in re.findall(r" loss ([0-9.]+) ", (output_dir / "log.txt").read_text())
    ]


# The log prints losses to 4 decimals. The two runs' losses differ by float rounding only (their
# weights agree to float rounding), but a value that close to a rounding boundary can print one unit
# of the last decimal apart; any real difference is larger.
LOGGED_LOSS_UNIT = 1e-4


def assert_same_run(distributed_dir, single_dir, epochs, rtol):
    record, weights = final_state(distributed_dir, epochs)
    expected_record, expected_weights = final_state(single_dir, epochs)
    assert record == expected_record
    assert weights.keys() == expected_weights.keys()
    for key, value in expected_weights.items():
        assert_close_in_norm(weights[key], value, rtol, key)
    losses, expected_losses = logged_losses(distributed_dir), logged_losses(single_dir)
    assert len(losses) == len(expected_losses) > 0
    assert all(
        abs(loss - expected) <= LOGGED_LOSS_UNIT * (1 + 1e-6)
        for loss, expected in zip(losses, expected_losses)
    ), (losses, expected_losses)


@pytest.mark.slow
@pytest.mark.parametrize(
    "trainer,options",
    [
        *(pytest.param(name, (), id=name) for name in TRAINED_METHODS),
        # the others load the best model once the main process has written it
        pytest.param(
            TRAINED_METHODS[0], ("TEST.FINAL_MODEL", "best_val"), id=f"{TRAINED_METHODS[0]}-best"
        ),
        # test batches of 11 leave a last batch of 1 that one process evaluates alone, uncoupled
        *(
            pytest.param(name, ("DATALOADER.TEST.BATCH_SIZE", 11), id=f"{name}-last_batch_alone")
            for name in BATCH_COUPLED_METHODS
        ),
    ],
)
def test_two_processes_train_and_test_as_one_process_with_the_same_global_batch(
    toy, tmp_path, trainer, options
):
    epochs = 2
    argv = {
        name: toy_argv(
            toy, tmp_path / name, *EXACT_OPTIONS, *options, trainer=trainer, epochs=epochs
        )
        for name in ("single", "distributed")
    }
    one_process(argv["single"])
    result = torchrun(argv["distributed"])
    assert result.returncode == 0, result.stderr[-3000:]
    rtol = trained_weights_rtol(load_clip_to_cpu(toy.tiny_clip_path), epochs)
    assert_same_run(tmp_path / "distributed", tmp_path / "single", epochs, rtol)
    assert not os.path.exists(tmp_path / "distributed" / "log.txt-")  # one log, rank 0's


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as file:
        return [int(child) for child in file.read().split()]


def kill_after_first_checkpoint(argv, output_dir):
    """SIGKILL torchrun's workers and torchrun itself (as a crashed machine would) once the
    first checkpoint is written."""
    pointer = output_dir / "prompt_learner" / "checkpoint"
    process = subprocess.Popen(
        torchrun_command(argv),
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while not pointer.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    for worker in children(process.pid):  # torchrun starts them in sessions of their own
        os.kill(worker, signal.SIGKILL)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"


@pytest.mark.slow
def test_killed_distributed_run_resumed_with_the_same_command_matches_an_uninterrupted_one(
    toy, tmp_path
):
    epochs = 6
    argv = {
        name: toy_argv(toy, tmp_path / name, *EXACT_OPTIONS, epochs=epochs)
        for name in ("uninterrupted", "interrupted")
    }
    assert torchrun(argv["uninterrupted"]).returncode == 0
    kill_after_first_checkpoint(argv["interrupted"], tmp_path / "interrupted")
    assert not (tmp_path / "interrupted" / "result.json").exists()
    resumed = torchrun(argv["interrupted"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = (tmp_path / "interrupted" / "log.txt").read_text()
    resumed_from = [int(epoch) for epoch in re.findall(r"^Previous epoch: (\d+)$", log, re.M)]
    assert len(resumed_from) == 1 and 1 <= resumed_from[0] < epochs
    record, weights = final_state(tmp_path / "interrupted", epochs)
    expected_record, expected_weights = final_state(tmp_path / "uninterrupted", epochs)
    assert record == expected_record
    for key, value in expected_weights.items():
        # exact: both are the same two processes running the same ops in the same order, one
        # restarted from the fp32 state it saved
        assert torch.equal(weights[key], value), key


@pytest.mark.slow
def test_a_global_batch_not_divisible_by_the_processes_is_one_error_line(toy, tmp_path):
    argv = toy_argv(toy, tmp_path / "run", "DATALOADER.TRAIN_X.BATCH_SIZE", 3)
    result = torchrun(argv)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [
        "Error: DATALOADER.TRAIN_X.BATCH_SIZE 3 (the global batch) is not divisible by the 2 "
        "processes: choose a batch size that is a multiple of 2, or another --nproc_per_node."
    ]
    assert 'train.py", line' not in result.stderr  # no traceback of train.py (torchrun's own
    # report of the failed workers follows the error line)
