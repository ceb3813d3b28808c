"""Learning on the generated world, end to end through the users' scripts and the world configs.

Assertions are about learning, not about a ranking: zero-shot transfer to classes never tuned
on, and every tuned method beating zero-shot on its base classes after a short run. The world
CLIP is built once per machine (minutes; tools/world/clip_cache.py) and reused afterwards.
"""

import glob
import json
import os
import subprocess
import sys

import pytest
from dassl.data.datasets import DATASET_REGISTRY

import datasets  # noqa: F401  (registers the datasets)
from tests.trainers.helpers import TRAINED_METHODS
from tools.make_world_data import NUM_CLASSES, write_world_dataset
from tools.world.clip_cache import world_clip_path
from trainers import TRAINERS, trainer_class

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# world_outline: with 800 test images per split, 3 epochs on world_tint left CoCoOp, ProGrad
# and SEP within a point or below zero-shot there (60.5, previous world CLIP), so that dataset
# no longer shows learning in a short run. On world_outline, zero-shot base is 57.1 on the
# shipped CLIP (weights eda4ce4aeb303d75) and 10-epoch runs reach 67.6-83.8 (the recorded world
# benchmark); every 3-epoch run beat it when this CLIP was shipped.
DATASET = "world_outline"
SHORT_RUN = ("OPTIM.MAX_EPOCH", "3")
WORLD_METHODS = sorted(
    os.path.basename(os.path.dirname(path))
    for path in glob.glob(os.path.join(REPO, "configs", "trainers", "*", "world.yaml"))
)
TUNED = [name for name in WORLD_METHODS if trainer_class(name).LEARNER_NAME]
# the method that trains nothing: zero-shot CLIP, the baseline every tuned method must beat
(ZERO_SHOT,) = [trainer.__name__ for trainer in TRAINERS if not trainer.LEARNER_NAME]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world_clip_path()  # the world configs name its link under ~/.cache
    root = tmp_path_factory.mktemp("world_data")
    write_world_dataset(DATASET_REGISTRY.get("WorldOutline"), str(root))
    return {"DATA": str(root), "OUTPUT": str(tmp_path_factory.mktemp("output"))}


def script_dir(trainer):
    for path in sorted(glob.glob(os.path.join(REPO, "scripts", "*", "base2new_train.sh"))):
        if f"TRAINER={trainer}\n" in open(path).read():
            return os.path.dirname(path)
    raise AssertionError(f"no scripts for {trainer}")


def run_and_read(world, trainer, stage, *opts):
    """Accuracy (%) of the run made by scripts/<method>/base2new_<stage>.sh on seed 1."""
    env = dict(os.environ, PYTHON=sys.executable, **world)
    script = os.path.join(script_dir(trainer), f"base2new_{stage}.sh")
    subprocess.run(["bash", script, DATASET, "1", *opts], env=env, check=True, cwd=REPO)
    split = "train_base" if stage == "train" else "test_new"
    pattern = os.path.join(world["OUTPUT"], "base2new", split, DATASET, "*", trainer, "*", "seed1")
    (result_file,) = glob.glob(os.path.join(pattern, "result.json"))
    with open(result_file) as file:
        return json.load(file)["accuracy"]


@pytest.fixture(scope="module")
def zero_shot(world):
    return {stage: run_and_read(world, ZERO_SHOT, stage) for stage in ("train", "test")}


def test_zero_shot_accuracy_on_new_classes_is_far_above_chance(zero_shot):
    chance = 100.0 / (NUM_CLASSES // 2)
    assert zero_shot["test"] >= 3 * chance


def test_world_configs_exist_for_every_trained_method():
    assert set(TRAINED_METHODS) <= set(TUNED)


@pytest.mark.parametrize("trainer", TUNED)
def test_a_short_tuning_run_beats_zero_shot_on_the_base_classes(world, zero_shot, trainer):
    assert run_and_read(world, trainer, "train", *SHORT_RUN) > zero_shot["train"]
