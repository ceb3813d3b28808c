"""SEP through the user's commands: base2new_train.sh, then base2new_test.sh, on toy data."""

import json
import os
import re
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPOCH_LINE = re.compile(r"epoch \[(\d+)/(\d+)\] batch \[(\d+)/(\d+)\].* acc [\d.]+ \(([\d.]+)\)")


def run_script(name, toy_root, output_root, *opts):
    env = dict(os.environ, DATA=toy_root, OUTPUT=str(output_root), PYTHON=sys.executable, SHOTS="4")
    return subprocess.run(
        ["bash", os.path.join(REPO_ROOT, "scripts", "sep", name), "caltech101", "1", *opts],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def tiny_opts(toy_root):
    return [
        "MODEL.BACKBONE.NAME",
        os.path.join(toy_root, "tiny_clip.pt"),
        "INPUT.SIZE",
        "(32,32)",
        "DATALOADER.NUM_WORKERS",
        "0",
        "DATALOADER.TRAIN_X.BATCH_SIZE",
        "4",
        "DATALOADER.TEST.BATCH_SIZE",
        "32",
        "OPTIM.MAX_EPOCH",
        "6",
        "OPTIM.WARMUP_EPOCH",
        "0",
        "OPTIM.LR",
        "0.01",
        "TRAINER.SEP.PREC",
        "fp32",
    ]


def last_epoch_train_accuracy(log_text):
    matches = [m for m in EPOCH_LINE.finditer(log_text) if m.group(1) == m.group(2)]
    return float(matches[-1].group(5))


@pytest.mark.slow
def test_sep_trains_on_base_classes_and_evaluates_on_new_ones(toy_data_root, tmp_path):
    opts = tiny_opts(toy_data_root)
    train = run_script("base2new_train.sh", toy_data_root, tmp_path, *opts)
    assert train.returncode == 0, train.stderr[-3000:]
    run_dirs = [
        root
        for root, _, files in os.walk(tmp_path / "base2new" / "train_base")
        if "result.json" in files
    ]
    assert len(run_dirs) == 1
    train_dir = run_dirs[0]
    assert os.sep.join(["caltech101", "shots_4", "SEP"]) in train_dir and train_dir.endswith(
        "seed1"
    )
    with open(os.path.join(train_dir, "log.txt")) as f:
        log = f.read()
    assert "Finish training" in log and "Finished training" in log
    # 3 base classes: chance is 33%; the separable toy classes are learned within a few epochs
    assert last_epoch_train_accuracy(log) >= 75.0
    with open(os.path.join(train_dir, "result.json")) as f:
        base = json.load(f)
    assert (base["method"], base["subsample"], base["total"]) == ("SEP", "base", 12)
    checkpoint_files = os.listdir(os.path.join(train_dir, "prompt_learner"))
    assert "model.pth.tar-6" in checkpoint_files

    test = run_script("base2new_test.sh", toy_data_root, tmp_path, *opts)
    assert test.returncode == 0, test.stderr[-3000:]
    test_dir = train_dir.replace("train_base", "test_new")
    with open(os.path.join(test_dir, "result.json")) as f:
        new = json.load(f)
    assert (new["subsample"], new["total"], new["epoch"]) == ("new", 12, 6)
    assert 0.0 <= new["accuracy"] <= 100.0
    with open(os.path.join(test_dir, "log.txt")) as f:
        assert "Loading weights to prompt_learner" in f.read()

    again = run_script("base2new_train.sh", toy_data_root, tmp_path, *opts)
    assert again.returncode == 0 and "Skip this job" in again.stdout


def test_sep_scripts_refuse_to_run_without_data(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATA"}
    result = subprocess.run(
        ["bash", os.path.join(REPO_ROOT, "scripts", "sep", "base2new_train.sh"), "caltech101", "1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "DATA is not set" in result.stderr


def test_sep_test_script_needs_the_matching_trained_model(toy_data_root, tmp_path):
    result = run_script("base2new_test.sh", toy_data_root, tmp_path, *tiny_opts(toy_data_root))
    assert result.returncode == 1
    assert "run base2new_train.sh first" in result.stderr
