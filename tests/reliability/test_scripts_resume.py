"""The method scripts resume a half-finished run in its folder and never touch a finished one."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.reliability.train_args import REPO_ROOT

EPOCHS = 10


def script_command(toy):
    options = [
        "MODEL.BACKBONE.NAME",
        toy.tiny_clip_path,
        "INPUT.SIZE",
        "(32,32)",
        "DATALOADER.NUM_WORKERS",
        "0",
        "DATALOADER.TRAIN_X.BATCH_SIZE",
        "2",
        "TRAINER.COOP.PREC",
        "fp32",
        "OPTIM.MAX_EPOCH",
        str(EPOCHS),
    ]
    return [
        "bash",
        os.path.join(REPO_ROOT, "scripts", "coop", "base2new_train.sh"),
        "caltech101",
        "1",
        *options,
    ]


def script_env(toy, output):
    env = {key: value for key, value in os.environ.items() if key not in ("DATA", "OUTPUT")}
    env.update(PYTHON=sys.executable, SHOTS="6", DATA=toy.root, OUTPUT=str(output))
    return env


def run_dir_pattern(output):
    return f"{output}/base2new/train_base/caltech101/shots_6/CoOp/*/seed1"


def folder_snapshot(folder):
    return {
        os.path.relpath(os.path.join(parent, name), folder): os.stat(
            os.path.join(parent, name)
        ).st_mtime_ns
        for parent, _, names in os.walk(folder)
        for name in names
    }


@pytest.mark.slow
def test_killed_script_run_is_resumed_then_skipped_once_finished(toy, tmp_path):
    command, env = script_command(toy), script_env(toy, tmp_path)
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    pointer_pattern = os.path.join(run_dir_pattern(tmp_path), "prompt_learner", "checkpoint")
    deadline = time.time() + 300
    while not glob.glob(pointer_pattern) and process.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)  # the script and the train.py it started
    process.wait()
    (run_dir,) = glob.glob(run_dir_pattern(tmp_path))
    assert not os.path.exists(os.path.join(run_dir, "result.json")), "finished before the kill"

    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Resume the unfinished job in {run_dir}" in resumed.stdout
    assert "Found checkpoint at" in resumed.stdout
    with open(os.path.join(run_dir, "result.json")) as f:
        assert json.load(f)["epoch"] == EPOCHS

    finished = folder_snapshot(run_dir)
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
    assert f"Results are available in {run_dir}. Skip this job" in again.stdout
    assert folder_snapshot(run_dir) == finished
