"""A train.py run killed (SIGKILL) mid-training and started again with the same command resumes
from its last epoch and ends exactly where an uninterrupted run ends."""

import glob
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.reliability.train_args import (
    REPO_ROOT,
    assert_same_final_state,
    final_state,
    toy_argv,
)

EPOCHS = 10
# every training image, 2 per batch: 9 batches per epoch, long enough to be killed mid-run
OPTIONS = ("DATASET.NUM_SHOTS", -1, "DATALOADER.TRAIN_X.BATCH_SIZE", 2)


def command(toy, output_dir):
    return [sys.executable, "train.py", *toy_argv(toy, output_dir, *OPTIONS, epochs=EPOCHS)]


def run_to_the_end(toy, output_dir):
    result = subprocess.run(
        command(toy, output_dir), cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]


def kill_after_first_checkpoint(toy, output_dir):
    pointer = os.path.join(output_dir, "prompt_learner", "checkpoint")
    process = subprocess.Popen(
        command(toy, output_dir),
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while not os.path.exists(pointer) and process.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"


@pytest.mark.slow
def test_killed_run_resumed_with_the_same_command_matches_an_uninterrupted_run(toy, tmp_path):
    uninterrupted, interrupted = tmp_path / "uninterrupted", tmp_path / "interrupted"
    run_to_the_end(toy, uninterrupted)

    kill_after_first_checkpoint(toy, interrupted)
    assert not os.path.exists(interrupted / "result.json")
    run_to_the_end(toy, interrupted)

    log = (interrupted / "log.txt").read_text()
    resumed_from = [int(epoch) for epoch in re.findall(r"^Previous epoch: (\d+)$", log, re.M)]
    assert len(resumed_from) == 1 and 1 <= resumed_from[0] < EPOCHS
    assert log.count("started again in this folder") == 1
    assert "Finish training" in log.split("started again in this folder")[1]

    assert_same_final_state(interrupted, uninterrupted, EPOCHS)
    record, _ = final_state(interrupted, EPOCHS)
    accuracy_lines = re.findall(r"^\* accuracy: .*$", log, re.M)
    assert accuracy_lines == [f"* accuracy: {record['accuracy']:.1f}%"]  # where parsers look

    # nothing left behind: one log, Dassl's final checkpoint only
    assert glob.glob(str(interrupted / "log.txt*")) == [str(interrupted / "log.txt")]
    assert sorted(os.listdir(interrupted / "prompt_learner")) == [
        "checkpoint",
        f"model.pth.tar-{EPOCHS}",
    ]
