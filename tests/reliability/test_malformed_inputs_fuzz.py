"""Fuzz: malformed split files and config files always end in the project's clear error.

hypothesis is not installed, so each input kind is mutated by a seeded random generator a fixed
number of times; every mutation kind is visited in turn, so each one is covered.
"""

import copy
import json
import os
import pathlib
import random

import pytest
import yaml
from yacs.config import CfgNode

import train
from datasets.splits import SplitFileError, read_split
from run.config import project_cfg_default, setup_cfg
from run.user_errors import ConfigError
from tests.reliability.train_args import REPO_ROOT, toy_argv

CASES = 90
NOT_A_LIST = [{"a": 1}, "train", 3, None, 1.5]


def valid_split(toy):
    with open(toy.split_path) as f:
        return json.load(f)


def random_entry_position(rng, split):
    key = rng.choice(["train", "val", "test"])
    return key, rng.randrange(len(split[key]))


def truncated_text(rng, split):
    text = json.dumps(split)
    return text[: rng.randrange(len(text) - 1)]


def garbage_bytes(rng, split):
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))


def wrong_top_level(rng, split):
    return [split["train"], "split", 7, None][rng.randrange(4)]


def missing_list(rng, split):
    del split[rng.choice(["train", "val", "test"])]
    return split


def list_of_wrong_type(rng, split):
    split[rng.choice(["train", "val", "test"])] = rng.choice(NOT_A_LIST)
    return split


def empty_list(rng, split):
    split[rng.choice(["train", "val", "test"])] = []
    return split


def entry_of_wrong_shape(rng, split):
    key, index = random_entry_position(rng, split)
    path, label, classname = split[key][index]
    split[key][index] = rng.choice(
        [
            {"path": path, "label": label},
            path,
            [path, label],
            [path, label, classname, "extra"],
            [[path, label, classname]],
            [],
        ]
    )
    return split


def wrong_path(rng, split):
    key, index = random_entry_position(rng, split)
    split[key][index][0] = rng.choice([3, None, [], "", {"p": 1}])
    return split


def label_not_an_int(rng, split):
    key, index = random_entry_position(rng, split)
    split[key][index][1] = rng.choice(["3", 1.5, None, -1, True, [1], "one"])
    return split


def wrong_class_name(rng, split):
    key, index = random_entry_position(rng, split)
    split[key][index][2] = rng.choice([7, None, ["dog"], {"name": "dog"}])
    return split


def wrong_nesting(rng, split):
    key = rng.choice(["train", "val", "test"])
    split[key] = rng.choice([{key: split[key]}, [split[key]]])
    return split


SPLIT_MUTATIONS = [
    truncated_text,
    garbage_bytes,
    wrong_top_level,
    missing_list,
    list_of_wrong_type,
    empty_list,
    entry_of_wrong_shape,
    wrong_path,
    label_not_an_int,
    wrong_class_name,
    wrong_nesting,
]


def write_split(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))


def test_the_unmutated_split_reads(toy, tmp_path):
    path = tmp_path / "split.json"
    write_split(path, valid_split(toy))
    train_items, val_items, test_items = read_split(str(path), toy.image_dir, "Caltech101")
    assert (len(train_items), len(val_items), len(test_items)) == (36, 12, 24)


def test_malformed_split_files_always_raise_split_file_error(toy, tmp_path):
    rng = random.Random(0)
    original = valid_split(toy)
    seen = set()
    for case in range(CASES):
        mutation = SPLIT_MUTATIONS[case % len(SPLIT_MUTATIONS)]
        path = tmp_path / f"split_{case}.json"
        write_split(path, mutation(rng, copy.deepcopy(original)))
        with pytest.raises(SplitFileError) as error:
            read_split(str(path), toy.image_dir, "Caltech101")
        assert f"Caltech101: {path} is not a valid split file" in str(error.value), (
            mutation.__name__
        )
        seen.add(mutation.__name__)
    assert len(seen) == len(SPLIT_MUTATIONS)


def test_malformed_split_file_through_train_py_is_one_error_line(toy_copy, tmp_path, run_train):
    split = valid_split(toy_copy)
    split["val"][2][1] = "2"
    write_split(pathlib.Path(toy_copy.split_path), split)
    result = run_train(toy_argv(toy_copy, tmp_path / "run", flags=["--no-train"]))
    assert result.status == 2
    assert (
        'is not a valid split file: "val"[2]: the label \'2\' is not an integer >= 0' in result.err
    )


# ---- config files -----------------------------------------------------------------------------

TRAINER_CONFIG = os.path.join(REPO_ROOT, "configs", "trainers", "CoOp", "vit_b16_ep50_ctxv1.yaml")
BROKEN_YAML = [
    "OPTIM:\n  LR: [0.1\n",
    "OPTIM:\n\tLR: 0.1\n",
    "OPTIM: LR: 0.1\n",
    "OPTIM:\n  LR: 0.1\n MAX_EPOCH: 2\n",
    "INPUT: {SIZE: (1, 2)\n",
    "'OPTIM:\n",
    "OPTIM:\n  - LR\n  MAX_EPOCH: 1\n",
    "@OPTIM: 1\n",
]


def leaf_paths(mapping, prefix=()):
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from leaf_paths(value, prefix + (key,))
        else:
            yield prefix + (key,)


def node_at(mapping, path):
    for key in path:
        mapping = mapping[key]
    return mapping


def default_at(path):
    return node_at(project_cfg_default(), path)


def mistyped(rng, name, valid_names):
    while True:
        position = rng.randrange(len(name))
        edit = rng.choice(["insert", "delete", "replace"])
        letter = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ_")
        if edit == "insert":
            candidate = name[:position] + letter + name[position:]
        elif edit == "delete":
            candidate = name[:position] + name[position + 1 :]
        else:
            candidate = name[:position] + letter + name[position + 1 :]
        if candidate and candidate not in valid_names:
            return candidate


def broken_syntax(rng, mapping):
    return yaml.safe_dump(mapping) + rng.choice(BROKEN_YAML)


def unknown_key(rng, mapping):
    path = rng.choice(list(leaf_paths(mapping)))
    parent = node_at(mapping, path[:-1])
    valid = set(node_at(project_cfg_default(), path[:-1]).keys())
    parent[mistyped(rng, path[-1], valid)] = parent.pop(path[-1])
    return yaml.safe_dump(mapping)


def unknown_section(rng, mapping):
    mapping[mistyped(rng, rng.choice(sorted(mapping)), set(project_cfg_default().keys()))] = {
        "X": 1
    }
    return yaml.safe_dump(mapping)


WRONG_VALUES = {
    str: [[1, 2], 3, 1.5],
    int: ["many", 1.5, [1]],
    float: ["fast", [0.1], True],
    bool: ["maybe", 2],
    tuple: ["wide", 7],
    list: ["wide", 7],
}


def wrong_type(rng, mapping):
    paths = [path for path in leaf_paths(mapping) if default_at(path) is not None]
    path = rng.choice(paths)
    node_at(mapping, path[:-1])[path[-1]] = rng.choice(WRONG_VALUES[type(default_at(path))])
    return yaml.safe_dump(mapping)


def wrong_structure(rng, mapping):
    path = rng.choice(list(leaf_paths(mapping)))
    choice = rng.randrange(4)
    if choice == 0:
        mapping[path[0]] = 5  # a section given a value
    elif choice == 1:
        node_at(mapping, path[:-1])[path[-1]] = {"A": 1}  # a value given a section
    elif choice == 2:
        return yaml.safe_dump([mapping])  # a list at the top
    else:
        return rng.choice(["just text\n", "42\n"])
    return yaml.safe_dump(mapping)


def non_string_key(rng, mapping):
    node_at(mapping, rng.choice(list(leaf_paths(mapping)))[:-1])[rng.choice([1, 2.5, None])] = 3
    return yaml.safe_dump(mapping)


def unsupported_value(rng, mapping):
    path = rng.choice(list(leaf_paths(mapping)))
    return yaml.safe_dump(mapping).replace(f"{path[-1]}:", f"{path[-1]}: 2020-01-01 #", 1)


CONFIG_MUTATIONS = [
    broken_syntax,
    unknown_key,
    unknown_section,
    wrong_type,
    wrong_structure,
    non_string_key,
    unsupported_value,
]


def load_valid_config():
    with open(TRAINER_CONFIG) as f:
        return yaml.safe_load(f)


def setup_with_config_file(path):
    return setup_cfg(train.parse_args(["--config-file", str(path)]))


def test_the_unmutated_config_sets_up():
    cfg = setup_with_config_file(TRAINER_CONFIG)
    assert isinstance(cfg, CfgNode) and cfg.TRAINER.COOP.N_CTX == 4


def test_malformed_config_files_always_raise_config_error_naming_the_file(tmp_path):
    rng = random.Random(0)
    seen = set()
    for case in range(CASES):
        mutation = CONFIG_MUTATIONS[case % len(CONFIG_MUTATIONS)]
        path = tmp_path / f"config_{case}.yaml"
        path.write_text(mutation(rng, load_valid_config()))
        with pytest.raises(ConfigError) as error:
            setup_with_config_file(path)
        assert str(path) in str(error.value), (mutation.__name__, path.read_text())
        seen.add(mutation.__name__)
    assert len(seen) == len(CONFIG_MUTATIONS)
