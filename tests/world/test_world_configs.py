"""Every configs/trainers/<TRAINER>/world.yaml follows the one rule the README states: the world's
data settings for all, the method's published optimiser and options, and options counted in
blocks or epochs scaled to the world CLIP's 4 blocks and the world's 10 epochs."""

import glob
import os

import pytest
import yaml

from trainers import method_table

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORLD_CONFIGS = sorted(glob.glob(os.path.join(REPO, "configs", "trainers", "*", "world.yaml")))
WORLD_BLOCKS, PUBLISHED_BLOCKS = 4, 12  # the world CLIP's encoders; ViT-B/16's
WORLD_EPOCHS = 10
DEPTH_KEYS = {
    "PROMPT_DEPTH",
    "PROMPT_DEPTH_TEXT",
    "PROMPT_DEPTH_VISION",
    "CROSS_LAYER",
    "CLASS_TOKEN_DEPTH",
}
EPOCH_KEYS = {"GPA_MEAN", "GPA_STD"}


def load(path):
    with open(path) as file:
        return yaml.safe_load(file)


def trainer_of(path):
    return os.path.basename(os.path.dirname(path))


def published(trainer):
    node, relative = method_table()[trainer]
    return node, load(os.path.join(REPO, "configs", "trainers", relative))


@pytest.mark.parametrize("path", WORLD_CONFIGS, ids=trainer_of)
def test_world_data_settings_are_the_same_for_every_method(path):
    config = load(path)
    assert config["INPUT"]["SIZE"] == "(32, 32)"
    assert config["INPUT"]["TRANSFORMS"] == ["random_flip", "normalize"]
    assert config["DATALOADER"]["TRAIN_X"]["BATCH_SIZE"] == 16
    assert config["MODEL"]["BACKBONE"]["NAME"] == "~/.cache/sep-prompt-tuning/world_clip.pt"
    node, _ = published(trainer_of(path))
    assert config["TRAINER"][node]["PREC"] == "fp32"
    if "OPTIM" in config:  # every method but zero-shot CLIP
        assert config["OPTIM"]["MAX_EPOCH"] == WORLD_EPOCHS


TUNED = [path for path in WORLD_CONFIGS if "OPTIM" in load(path)]


@pytest.mark.parametrize("path", TUNED, ids=trainer_of)
def test_optimiser_and_method_options_are_the_published_ones_scaled_to_the_world(path):
    config = load(path)
    node, reference = published(trainer_of(path))
    for key, value in reference["OPTIM"].items():
        if key != "MAX_EPOCH":
            assert config["OPTIM"][key] == value, key
    assert set(config["TRAINER"][node]) == set(reference["TRAINER"][node])
    for key, value in reference["TRAINER"][node].items():
        if key == "PREC":
            continue
        if key in DEPTH_KEYS:
            value = max(1, round(value * WORLD_BLOCKS / PUBLISHED_BLOCKS))
        elif key in EPOCH_KEYS:
            value = value * WORLD_EPOCHS / reference["OPTIM"]["MAX_EPOCH"]
        assert config["TRAINER"][node][key] == value, key


def test_a_published_prompt_depth_of_9_becomes_3():
    depth_9 = []
    for path in WORLD_CONFIGS:
        node, reference = published(trainer_of(path))
        for key in DEPTH_KEYS & set(reference["TRAINER"][node]):
            if reference["TRAINER"][node][key] == 9:
                depth_9.append(key)
                assert load(path)["TRAINER"][node][key] == 3, (path, key)
    assert depth_9  # IVLP's, MaPLe's and PromptSRC's published depth
