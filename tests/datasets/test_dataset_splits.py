"""CoOp split files, few-shot caches and the base/new class split (datasets/splits.py)."""

import json
import os
import random

import pytest
from dassl.data.datasets import DATASET_REGISTRY, Datum

import datasets  # noqa: F401  (registers the datasets)
from datasets.splits import (
    FewShotShortage,
    fewshot_cache_path,
    read_split,
    save_split,
    subsample_classes,
    warn_short_classes,
)
from tests.datasets.fake_layouts import FAKE_LAYOUTS, dataset_cfg, write_jpeg


def build(root, name, **cfg_options):
    return DATASET_REGISTRY.get(name)(dataset_cfg(root, name, **cfg_options))


def impaths(items):
    return [item.impath for item in items]


def make_items(tmp_path, labels, first_index=0):
    items = []
    for index, label in enumerate(labels, start=first_index):
        path = str(tmp_path / f"class{label}" / f"{index}.jpg")
        write_jpeg(path)
        items.append(Datum(impath=path, label=label, classname=f"class{label}"))
    return items


def test_save_then_read_split_round_trips_relative_paths(tmp_path):
    train = make_items(tmp_path, [0, 0, 1])
    val = make_items(tmp_path, [1], first_index=3)
    test = make_items(tmp_path, [0, 1], first_index=4)
    split_path = str(tmp_path / "split_zhou_Toy.json")
    save_split(train, val, test, split_path, str(tmp_path))

    with open(split_path) as file:
        stored = json.load(file)
    assert stored["val"] == [[os.path.relpath(val[0].impath, tmp_path), 1, "class1"]]
    assert not os.path.isabs(stored["train"][0][0])

    read = read_split(split_path, str(tmp_path))
    for written, loaded in zip((train, val, test), read):
        assert [(i.impath, i.label, i.classname) for i in loaded] == [
            (i.impath, i.label, i.classname) for i in written
        ]


def test_subsample_base_and_new_are_disjoint_halves_relabelled_from_zero(tmp_path):
    train = make_items(tmp_path, [0, 1, 2, 3, 4])
    test = make_items(tmp_path, [4, 3, 2, 1, 0])

    base_train, base_test = subsample_classes(train, test, subsample="base")
    new_train, new_test = subsample_classes(train, test, subsample="new")

    # 5 classes: base gets ceil(5/2) = 3.
    assert [(i.label, i.classname) for i in base_train] == [
        (0, "class0"),
        (1, "class1"),
        (2, "class2"),
    ]
    assert [(i.label, i.classname) for i in new_train] == [(0, "class3"), (1, "class4")]
    assert [i.classname for i in base_test] == ["class2", "class1", "class0"]
    assert not set(impaths(base_test)) & set(impaths(new_test))
    assert subsample_classes(train, test, subsample="all") == [train, test]


def test_subsample_rejects_unknown_setting_naming_the_key(tmp_path):
    with pytest.raises(ValueError, match="DATASET.SUBSAMPLE_CLASSES"):
        subsample_classes(make_items(tmp_path, [0]), subsample="half")


@pytest.mark.parametrize("name", ["Caltech101", "FGVCAircraft", "ImageNet"])
def test_dataset_subsample_splits_classes_in_every_list(tmp_path, name):
    expected = FAKE_LAYOUTS[name](str(tmp_path))
    base = build(tmp_path, name, subsample="base")
    new = build(tmp_path, name, subsample="new")

    assert base.classnames == expected.classnames[:2]
    assert new.classnames == expected.classnames[2:]
    for dataset in (base, new):
        for items in (dataset.train_x, dataset.val, dataset.test):
            assert {item.label for item in items} == {0, 1}
    for base_items, new_items in ((base.train_x, new.train_x), (base.test, new.test)):
        assert not set(impaths(base_items)) & set(impaths(new_items))


@pytest.mark.parametrize("name", ["Caltech101", "FGVCAircraft", "UCF101"])
def test_fewshot_cache_is_created_then_reused_in_the_same_order(tmp_path, capsys, name):
    expected = FAKE_LAYOUTS[name](str(tmp_path))
    cache = fewshot_cache_path(os.path.join(expected.dataset_dir, "split_fewshot"), 2, 7)

    random.seed(0)
    first = build(tmp_path, name, num_shots=2, seed=7)
    assert f"Saving preprocessed few-shot data to {cache}" in capsys.readouterr().out
    assert os.path.isfile(cache)
    assert os.listdir(os.path.dirname(cache)) == ["shot_2-seed_7.pkl"]  # no temp file left

    random.seed(12345)  # a fresh draw would differ; the cache must win
    second = build(tmp_path, name, num_shots=2, seed=7)
    assert f"Loading preprocessed few-shot data from {cache}" in capsys.readouterr().out

    assert len(first.train_x) == 2 * len(expected.classnames)
    assert len(first.val) == 2 * len(expected.classnames)  # min(2, 4) per class
    assert impaths(second.train_x) == impaths(first.train_x)
    assert impaths(second.val) == impaths(first.val)
    assert len(second.test) == expected.num_test


def test_fewshot_uses_the_seed_in_the_cache_name(tmp_path):
    expected = FAKE_LAYOUTS["OxfordPets"](str(tmp_path))
    build(tmp_path, "OxfordPets", num_shots=1, seed=1)
    build(tmp_path, "OxfordPets", num_shots=1, seed=2)
    assert sorted(os.listdir(os.path.join(expected.dataset_dir, "split_fewshot"))) == [
        "shot_1-seed_1.pkl",
        "shot_1-seed_2.pkl",
    ]


def test_fewshot_beyond_class_size_is_refused_naming_classes_and_the_fix(tmp_path):
    FAKE_LAYOUTS["Food101"](str(tmp_path))
    with pytest.raises(FewShotShortage) as error:
        build(tmp_path, "Food101", num_shots=8)
    message = str(error.value)
    assert "DATASET.NUM_SHOTS 8" in message and "apple_pie (3)" in message
    assert "DATASET.FEWER_SHOTS_POLICY warn" in message
    assert not os.path.exists(tmp_path / "food-101" / "split_fewshot")  # refused before sampling


def test_fewshot_beyond_class_size_with_warn_policy_keeps_all_and_warns(tmp_path, capsys):
    expected = FAKE_LAYOUTS["Food101"](str(tmp_path))
    dataset = build(tmp_path, "Food101", num_shots=8, fewer_shots_policy="warn")
    output = capsys.readouterr().out

    assert len(dataset.train_x) == expected.num_train  # 3 per class, all kept
    assert "Warning: 4 classes have fewer than 8 training images" in output
    assert "apple_pie (3)" in output and "beef_carpaccio (3)" in output
    assert "Warning: 4 classes have fewer than 4 validation images" in output


def test_warn_short_classes_is_silent_when_every_class_is_full(tmp_path, capsys):
    assert warn_short_classes(make_items(tmp_path, [0, 0, 1, 1]), 2, "training") == []
    assert capsys.readouterr().out == ""


def test_split_with_classes_coop_renamed_is_flagged_as_nonstandard(tmp_path, capsys):
    expected = FAKE_LAYOUTS["Caltech101"](str(tmp_path))
    split_path = os.path.join(expected.dataset_dir, "split_zhou_Caltech101.json")
    with open(split_path) as file:
        split = json.load(file)
    renamed_label = split["train"][-1][1]
    for items in split.values():  # CoOp's "airplane" under its folder name, in every entry
        for item in items:
            if item[1] == renamed_label:
                item[2] = "airplanes"
    with open(split_path, "w") as file:
        json.dump(split, file)

    build(tmp_path, "Caltech101")
    assert "does not look like CoOp's standard split" in capsys.readouterr().out


def test_standard_split_is_not_flagged(tmp_path, capsys):
    FAKE_LAYOUTS["EuroSAT"](str(tmp_path))
    build(tmp_path, "EuroSAT")
    assert "standard split" not in capsys.readouterr().out
