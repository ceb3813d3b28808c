"""The trainers against a real Dassl.pytorch checkout, when one is given.

Set SEP_REAL_DASSL to a Dassl.pytorch checkout (with its requirements importable, e.g. through
PYTHONPATH) to run these; without it they are skipped, since Dassl is not installable here.
"""

import json
import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL_DASSL = os.environ.get("SEP_REAL_DASSL")
CONFIGS = {
    "SEP": "SEP/vit_b16_ep50_batch32",
    "CoOp": "CoOp/vit_b16_ep50_ctxv1",
    "KgCoOp": "KgCoOp/vit_b16_ep100_ctxv1",
    "CoCoOp": "CoCoOp/vit_b16_c4_ep10_batch1_ctxv1",
    "ZeroshotCLIP": "ZeroshotCLIP/vit_b16",
}

pytestmark = pytest.mark.skipif(not REAL_DASSL, reason="SEP_REAL_DASSL is not set")


def run_train_py(trainer, toy_root, output_dir, *extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REAL_DASSL, env.get("PYTHONPATH")]))
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
        f"configs/trainers/{CONFIGS[trainer]}.yaml",
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
        env=dict(os.environ, PYTHONPATH=REAL_DASSL),
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
    model_dir = [] if trainer == "ZeroshotCLIP" else ["--model-dir", str(tmp_path / "base")]
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
