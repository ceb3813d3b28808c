"""The trainers against a real Dassl.pytorch checkout, when one is given.

Set SEP_REAL_DASSL to a Dassl.pytorch checkout (with its requirements importable, e.g. through
PYTHONPATH) to run these; without it they are skipped, since Dassl is not installable here.
"""

import json
import os
import re
import subprocess
import sys

import pytest

import trainers
from trainers import tiny_depth_options

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL_DASSL = os.environ.get("SEP_REAL_DASSL")
CONFIGS = {name: config for name, (_, config) in trainers.method_table().items()}

pytestmark = pytest.mark.skipif(not REAL_DASSL, reason="SEP_REAL_DASSL is not set")


def real_dassl_env():
    """The environment with the checkout first on PYTHONPATH (its requirements may follow)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REAL_DASSL, env.get("PYTHONPATH")]))
    return env


def run_train_py(trainer, toy_root, output_dir, *extra):
    env = real_dassl_env()
    command = [
        sys.executable,
        "train.py",
        "--root",
        toy_root,
        "--seed",
        "1",
        "--trainer",
        trainer,
        "--dataset-config-file",
        "configs/datasets/caltech101.yaml",
        "--config-file",
        f"configs/trainers/{CONFIGS[trainer]}",
        "--output-dir",
        str(output_dir),
        *extra,
        "MODEL.BACKBONE.NAME",
        os.path.join(toy_root, "tiny_clip.pt"),
        "INPUT.SIZE",
        "(32,32)",
        "OPTIM.MAX_EPOCH",
        "1",
        "DATASET.NUM_SHOTS",
        "2",
        "DATALOADER.NUM_WORKERS",
        "0",
        "DATALOADER.TRAIN_X.BATCH_SIZE",
        "2",
        *map(str, tiny_depth_options(trainer)),
    ]
    return subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
@pytest.mark.parametrize("trainer", sorted(CONFIGS))
def test_trainer_runs_base_to_new_with_the_real_dassl(trainer, toy_data_root, tmp_path):
    probe = subprocess.run(
        [sys.executable, "-c", "import dassl_setup, dassl; print(dassl.__file__)"],
        cwd=REPO_ROOT,
        env=real_dassl_env(),
        capture_output=True,
        text=True,
    )
    assert os.path.realpath(probe.stdout.strip()).startswith(os.path.realpath(REAL_DASSL))

    train = run_train_py(
        trainer, toy_data_root, tmp_path / "base", "DATASET.SUBSAMPLE_CLASSES", "base"
    )
    assert train.returncode == 0, train.stderr[-3000:]
    with open(tmp_path / "base" / "log.txt") as f:
        log = f.read()
    assert "Finish training" in log and "Finished training" in log  # forks wait for either
    declared = trainers.trainer_class(trainer)
    for term in declared.LOGGED_LOSS_TERMS:  # Dassl's MetricMeter prints each loss_summary entry
        assert re.search(rf" {term} [\d.]+ \(", log), term
    model_dir = ["--model-dir", str(tmp_path / "base")] if declared.LEARNER_NAME else []
    test = run_train_py(
        trainer,
        toy_data_root,
        tmp_path / "new",
        *model_dir,
        "--eval-only",
        "DATASET.SUBSAMPLE_CLASSES",
        "new",
    )
    assert test.returncode == 0, test.stderr[-3000:]
    with open(tmp_path / "new" / "result.json") as f:
        assert json.load(f)["subsample"] == "new"
