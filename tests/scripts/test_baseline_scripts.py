"""The baselines' shell scripts end to end on the toy Caltech101 (train.py in subprocesses)."""

import glob
import json
import os
import subprocess
import sys

import pytest

from tools.sweeps.jobs import SCRIPTS_DIR, method_folders, script_variables
from trainers import tiny_depth_options, trainer_class

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# script folder -> (trainer name, config), as each method's base2new_train.sh declares them
METHODS = {
    folder: (
        trainer,
        script_variables(os.path.join(SCRIPTS_DIR, folder, "base2new_train.sh"))["CFG"],
    )
    for trainer, folder in method_folders().items()
}
# script folders of the methods that train: their transfer tests load an ImageNet training
TRAINED_FOLDERS = sorted(
    folder for folder, (trainer, _) in METHODS.items() if trainer_class(trainer).LEARNER_NAME
)
SHOTS = "2"


def run_script(script, *args, data=None, output=None):
    env = {key: value for key, value in os.environ.items() if key not in ("DATA", "OUTPUT")}
    env.update(PYTHON=sys.executable, SHOTS=SHOTS)
    if data is not None:
        env["DATA"] = str(data)
    if output is not None:
        env["OUTPUT"] = str(output)
    return subprocess.run(
        ["bash", os.path.join(REPO_ROOT, "scripts", script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def toy_options(toy_data_root, method):
    tiny_clip_path = os.path.join(toy_data_root, "tiny_clip.pt")
    options = [
        "MODEL.BACKBONE.NAME",
        tiny_clip_path,
        "INPUT.SIZE",
        "(32,32)",
        "DATALOADER.NUM_WORKERS",
        "0",
    ]
    if trainer_class(METHODS[method][0]).LEARNER_NAME:  # zero-shot's "training" runs 0 epochs
        options += ["OPTIM.MAX_EPOCH", "1"]
    return options + [str(option) for option in tiny_depth_options(METHODS[method][0])]


def only_match(pattern):
    matches = glob.glob(pattern)
    assert len(matches) == 1, (pattern, matches)
    return matches[0]


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(METHODS))
def test_base2new_scripts_write_results_and_skip_finished_jobs(method, toy_data_root, tmp_path):
    trainer, config = METHODS[method]
    options = toy_options(toy_data_root, method)
    arguments = ("caltech101", "1", *options)
    for phase, split, subsample in (("train", "train_base", "base"), ("test", "test_new", "new")):
        script = f"{method}/base2new_{phase}.sh"
        result = run_script(script, *arguments, data=toy_data_root, output=tmp_path)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        run_dir = only_match(
            f"{tmp_path}/base2new/{split}/caltech101/shots_{SHOTS}/{trainer}/{config}_opts-*/seed1"
        )
        with open(os.path.join(run_dir, "result.json")) as f:
            record = json.load(f)
        assert (record["method"], record["subsample"]) == (trainer, subsample)
        assert record["num_shots"] == int(SHOTS)

        rerun = run_script(script, *arguments, data=toy_data_root, output=tmp_path)
        assert rerun.returncode == 0
        assert "Skip this job" in rerun.stdout


@pytest.mark.parametrize(
    "script", [f"{method}/base2new_train.sh" for method in sorted(METHODS)] + ["cocoop/xd_train.sh"]
)
def test_scripts_without_data_say_so_and_exit_2(script, tmp_path):
    result = run_script(script, "caltech101", "1", output=tmp_path)
    assert result.returncode == 2
    assert "DATA is not set" in result.stderr


@pytest.mark.parametrize("method", TRAINED_FOLDERS)
@pytest.mark.parametrize("script", ["xd_test.sh", "dg_test.sh"])
def test_cross_dataset_tests_need_a_finished_imagenet_run(method, script, tmp_path):
    result = run_script(f"{method}/{script}", "imagenetv2", "1", data=tmp_path, output=tmp_path)
    assert result.returncode == 1
    assert "No finished ImageNet training" in result.stderr
    assert f"cross_dataset/train/imagenet/shots_{SHOTS}/{METHODS[method][0]}/" in result.stderr


@pytest.mark.parametrize("dataset, expected", [("dtd", "45.0 5.0"), ("caltech101", None)])
def test_promptsrc_few_shot_sets_the_authors_gpa_for_its_five_datasets(dataset, expected, tmp_path):
    env = dict(os.environ, DATA=str(tmp_path), OUTPUT=str(tmp_path), PYTHON="echo", SHOTS="16")
    result = subprocess.run(
        ["bash", os.path.join(REPO_ROOT, "scripts", "promptsrc", "few_shot.sh"), dataset, "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    command = result.stdout.splitlines()[-1]  # what train.py would have been given
    assert "vit_b16_c2_ep50_batch4_4+4ctx_few_shot.yaml" in command
    if expected is None:
        assert "GPA_MEAN" not in command
    else:
        mean, std = expected.split()
        assert f"TRAINER.PROMPTSRC.GPA_MEAN {mean} TRAINER.PROMPTSRC.GPA_STD {std}" in command


def script_command(script, dataset, shots="16"):
    """The train.py command ``script`` would run (PYTHON=echo prints it instead)."""
    env = dict(os.environ, PYTHON="echo", SHOTS=shots)
    env["DATA"] = env["OUTPUT"] = os.path.dirname(REPO_ROOT)
    result = subprocess.run(
        ["bash", os.path.join(REPO_ROOT, "scripts", script), dataset, "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    "shots, dataset, config, lambda_",
    [
        ("1", "dtd", "rn50_ep50", None),
        ("4", "caltech101", "rn50_ep100", None),
        ("8", "eurosat", "rn50", "0.8"),
        ("16", "oxford_flowers", "rn50", "0.8"),
        ("16", "caltech101", "rn50", None),
        ("4", "dtd", "rn50_ep100", None),
    ],
)
def test_prograd_few_shot_takes_the_authors_config_and_lambda(shots, dataset, config, lambda_):
    command = script_command("prograd/few_shot.sh", dataset, shots)
    assert f"configs/trainers/ProGrad/{config}.yaml" in command
    assert ("TRAINER.PROGRAD.LAMBDA" in command) == (lambda_ is not None)
    if lambda_ is not None:
        assert f"TRAINER.PROGRAD.LAMBDA {lambda_}" in command


@pytest.mark.parametrize(
    "dataset, config", [("imagenet", "vit_b16_ep50"), ("sun397", "vit_b16_ep100")]
)
def test_prograd_trains_imagenet_for_50_epochs(dataset, config):
    command = script_command("prograd/base2new_train.sh", dataset)
    assert f"configs/trainers/ProGrad/{config}.yaml" in command
