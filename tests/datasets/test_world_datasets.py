"""The world's downstream datasets: written in the CoOp layout, read by the registered loaders."""

import json
import os

import pytest
from dassl.data.datasets import DATASET_REGISTRY
from PIL import Image

import datasets  # noqa: F401  (registers the datasets)
from tests.datasets.fake_layouts import dataset_cfg
from tools.make_world_data import NUM_CLASSES, SPLIT_SIZES, world_datasets, write_world_dataset
from tools.world.vocabulary import class_names


@pytest.fixture(scope="module")
def outline_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("world_data")
    write_world_dataset(DATASET_REGISTRY.get("WorldOutline"), str(root))
    return root


def test_every_world_dataset_is_registered_with_a_config_and_its_own_style():
    names = [cls.__name__ for cls in world_datasets()]
    assert names == ["WorldNoise", "WorldOutline", "WorldPhoto", "WorldTint"]
    styles = {cls.style for cls in world_datasets()}
    assert len(styles) == len(names)  # each its own domain
    in_domain = [cls.__name__ for cls in world_datasets() if cls.style == "photo"]
    assert in_domain == ["WorldPhoto"]  # the pretraining domain; the others are shifted
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for cls in world_datasets():
        config = os.path.join(repo, "configs", "datasets", f"world_{cls.style}.yaml")
        assert f'NAME: "{cls.__name__}"' in open(config).read()


def test_split_file_lists_every_image_in_coop_format(outline_root):
    folder = outline_root / "world-outline"
    split = json.loads((folder / "split_zhou_WorldOutline.json").read_text())
    per_class = {key: {} for key in SPLIT_SIZES}
    for key, items in split.items():
        for relpath, label, classname in items:
            assert classname in class_names()
            assert relpath.startswith(classname.replace(" ", "_") + "/")
            with Image.open(folder / "images" / relpath) as image:
                assert image.size == (32, 32) and image.mode == "RGB"
            per_class[key].setdefault(label, set()).add(classname)
    for key, size in SPLIT_SIZES.items():
        assert sorted(per_class[key]) == list(range(NUM_CLASSES))
        assert all(len(names) == 1 for names in per_class[key].values())  # one name per label
        assert len(split[key]) == NUM_CLASSES * size
    all_paths = [relpath for items in split.values() for relpath, _, _ in items]
    assert len(set(all_paths)) == len(all_paths)


def test_registered_loader_splits_base_and_new_as_the_first_and_second_half(outline_root):
    split = json.loads(
        (outline_root / "world-outline" / "split_zhou_WorldOutline.json").read_text()
    )
    name_of = {label: classname for _, label, classname in split["train"]}
    half = NUM_CLASSES // 2
    base = DATASET_REGISTRY.get("WorldOutline")(
        dataset_cfg(outline_root, "WorldOutline", num_shots=16, subsample="base")
    )
    new = DATASET_REGISTRY.get("WorldOutline")(
        dataset_cfg(outline_root, "WorldOutline", num_shots=16, subsample="new")
    )
    assert base.classnames == [name_of[label] for label in range(half)]
    assert new.classnames == [name_of[label] for label in range(half, NUM_CLASSES)]
    assert len(base.train_x) == 16 * half
    assert len(new.test) == SPLIT_SIZES["test"] * half


def test_datasets_hold_different_classes_and_rewriting_leaves_files_alone(outline_root):
    split_path = outline_root / "world-outline" / "split_zhou_WorldOutline.json"
    written = os.stat(split_path).st_mtime_ns
    write_world_dataset(DATASET_REGISTRY.get("WorldOutline"), str(outline_root))
    assert os.stat(split_path).st_mtime_ns == written
    from tools.make_world_data import dataset_classes

    assert dataset_classes("WorldOutline", 0) != dataset_classes("WorldTint", 0)
    assert dataset_classes("WorldOutline", 0) == dataset_classes("WorldOutline", 0)


def test_the_split_summary_states_chance_and_the_worth_of_one_test_image():
    from tools.make_world_data import split_summary

    classes = NUM_CLASSES // 2  # base and new each hold half of a dataset's classes
    images = classes * SPLIT_SIZES["test"]
    line = split_summary()
    assert f"{classes} classes (chance {100 / classes:.1f}%)" in line
    assert f"one image = {100 / images:.3f} points" in line
    assert 100 / images <= 0.2  # well under the spreads over seeds the benchmark reports
