"""The folder tools/sweep.py predicts is the folder the script writes, for every method x
protocol x kind of dataset: the scripts and the sweep both take it from run/layout.py."""

import os
import subprocess

import pytest

from run import layout
from tools.sweeps.jobs import REPO_ROOT, SweepError, expand, method_folders

# Records where train.py would write and which trainer config it would read, and leaves a
# result, so that the evaluation scripts find their finished training run.
FAKE_PYTHON = """#!/bin/bash
while [ $# -gt 0 ]; do
    case "$1" in
        --output-dir) out="$2"; shift ;;
        --config-file) cfg="$2"; shift ;;
    esac
    shift
done
mkdir -p "$out"
echo "$cfg" > "$out/config_file"
echo '{}' > "$out/result.json"
"""
OPTS = ["OPTIM.MAX_EPOCH", "2"]
TRANSFER = ("cross_dataset", "domain_generalization")


def dataset_kinds(tmp_path):
    """A real dataset, a world one, an ImageNet-size one and a dataset yaml given by path."""
    own = tmp_path / "my_flowers.yaml"
    own.write_text("DATASET:\n  NAME: MyFlowers\n")
    return {"real": "dtd", "world": "world_outline", "large": "sun397", "own": str(own)}


def run_script(call, env):
    completed = subprocess.run(
        ["bash", os.path.join(REPO_ROOT, call.script), *call.args],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert completed.returncode == 0, completed.stderr


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(method_folders()))
def test_the_sweep_predicts_the_folder_every_script_writes(method, tmp_path):
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    output = tmp_path / "output"
    env = dict(os.environ, PYTHON=str(fake), DATA=str(tmp_path), OUTPUT=str(output), SHOTS="16")
    kinds = dataset_kinds(tmp_path)
    targets = {
        "base2new": list(kinds.values()),
        "few_shot": list(kinds.values()),
        "cross_dataset": [kinds["real"], kinds["world"], kinds["own"]],
        "domain_generalization": ["imagenet_a"],
    }
    checked = 0
    for protocol, datasets in targets.items():
        try:
            jobs = expand(protocol, datasets, [1], [method], str(output), opts=OPTS)
        except SweepError:
            continue  # the method has no script for this protocol
        for job in jobs:
            for call in job.calls:
                run_script(call, env)
                assert os.path.isfile(os.path.join(call.output_dir, "config_file")), call
                with open(os.path.join(call.output_dir, "config_file")) as file:
                    config = os.path.basename(file.read().strip())[: -len(".yaml")]
                tag = os.path.basename(os.path.dirname(call.output_dir))
                assert tag == layout.run_tag(config, OPTS)
                if kinds["world"] in call.args and protocol not in TRANSFER:
                    assert config == layout.WORLD_CONFIG  # configs/trainers/<TRAINER>/world.yaml
                checked += 1
    assert checked >= 2 * len(kinds)  # at least base-to-new train and test of every kind


def test_world_datasets_use_the_world_config_and_large_ones_the_large_config():
    configs = layout.MethodConfigs("base", large_cfg="large", xd_cfg="xd")
    assert layout.config_for("base2new", "world_tint", configs) == "world"
    assert layout.config_for("few_shot", "/data/world_tint.yaml", configs) == "world"
    assert layout.config_for("base2new", "imagenet", configs) == "large"
    assert layout.config_for("base2new", "dtd", configs) == "base"
    assert layout.config_for("cross_dataset", "world_tint", configs) == "xd"
    assert layout.config_for("base2new", "imagenet", layout.MethodConfigs("base")) == "base"


def test_a_dataset_yaml_given_by_path_is_named_by_its_stem():
    runs = layout.MethodRuns("/out", "CoOp", layout.MethodConfigs("c"), seed=2, shots=4)
    run = runs.run("few_shot", "train", "/d/my_data.yaml")
    assert run.folder == "/out/few_shot/my_data/shots_4/CoOp/c/seed2"


def test_an_evaluation_loads_the_training_run_of_its_protocol():
    configs = layout.MethodConfigs("c", xd_cfg="x")
    runs = layout.MethodRuns("/o", "SEP", configs, seed=1)
    model = runs.model_run("domain_generalization", "imagenet_r")
    assert model.folder == "/o/cross_dataset/train/imagenet/shots_16/SEP/x/seed1"
    model = runs.model_run("base2new", "dtd")
    assert model.folder == "/o/base2new/train_base/dtd/shots_16/SEP/c/seed1"


def test_published_tags_read_back():
    folder = layout.published_evaluation_dir("/o", "dtd", "MaPLe", "cfg_x", 16, 3)
    assert folder == "/o/evaluation/MaPLe/cfg_x_16shots/dtd/seed3"
    assert layout.parse_published_tag("cfg_x_16shots") == ("cfg_x", 16)
    assert layout.parse_published_tag("shots_16") is None
    assert layout.parse_published_tag("vit_b16_ep50") is None
