"""Every registered dataset reads its real on-disk layout, and says clearly what is missing."""

import glob
import os
import shutil

import pytest
import yaml
from dassl.data.datasets import DATASET_REGISTRY

import datasets  # noqa: F401  (registers the datasets)
from datasets.layout import DatasetLayoutError, MissingImagesError
from run.untrusted_files import load_datum_lists
from tests.datasets.fake_layouts import FAKE_LAYOUTS, SPLIT_FILE_DATASETS, dataset_cfg

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build(root, name, **cfg_options):
    return DATASET_REGISTRY.get(name)(dataset_cfg(root, name, **cfg_options))


def test_registry_holds_the_fifteen_coop_datasets():
    registered = set(DATASET_REGISTRY.registered_names())
    assert set(FAKE_LAYOUTS) <= registered


def test_each_dataset_config_names_a_registered_dataset():
    config_paths = sorted(glob.glob(os.path.join(REPO_ROOT, "configs", "datasets", "*.yaml")))
    # the generated world's datasets: tests/datasets/test_world_datasets.py
    config_paths = [
        path for path in config_paths if not os.path.basename(path).startswith("world_")
    ]
    names = set()
    for path in config_paths:
        with open(path) as file:
            names.add(yaml.safe_load(file)["DATASET"]["NAME"])
    assert names == set(FAKE_LAYOUTS)
    assert len(config_paths) == 15


@pytest.mark.parametrize("name", sorted(FAKE_LAYOUTS))
def test_dataset_reads_its_real_layout(tmp_path, name):
    expected = FAKE_LAYOUTS[name](str(tmp_path))
    dataset = build(tmp_path, name)

    assert dataset.classnames == expected.classnames
    assert dataset.num_classes == len(expected.classnames)
    assert len(dataset.train_x) == expected.num_train
    assert len(dataset.test) == expected.num_test
    if expected.num_val is None:
        assert dataset.val is None
    else:
        assert len(dataset.val) == expected.num_val
    lists = [dataset.train_x, dataset.test] + ([dataset.val] if dataset.val else [])
    for items in lists:
        assert {item.label for item in items} == set(range(len(expected.classnames)))
        for item in items:
            assert item.classname == expected.classnames[item.label]
            assert os.path.isfile(item.impath)
            assert item.impath.startswith(expected.dataset_dir + os.sep)


def read_items(items, dataset_dir):
    return sorted(
        (os.path.relpath(item.impath, dataset_dir), item.label, item.classname) for item in items
    )


@pytest.mark.parametrize("name", sorted(FAKE_LAYOUTS))
def test_dataset_reads_every_item_with_its_label_and_class_name(tmp_path, name):
    """Item by item: which file got which label and class name, in every split."""
    expected = FAKE_LAYOUTS[name](str(tmp_path))
    dataset = build(tmp_path, name)
    splits = {"train": dataset.train_x, "val": dataset.val, "test": dataset.test}
    for split, expected_items in expected.items.items():
        if expected_items is None:
            assert splits[split] is None, split
            continue
        actual = read_items(splits[split], expected.dataset_dir)
        assert actual == sorted(expected_items), split


def test_numbered_class_folders_are_labelled_by_their_number(tmp_path):
    expected = FAKE_LAYOUTS["ImageNetV2"](str(tmp_path))
    assert len(expected.classnames) > 10
    dataset = build(tmp_path, "ImageNetV2")
    for item in dataset.test:
        folder = os.path.basename(os.path.dirname(item.impath))
        assert item.label == int(folder)
        assert item.classname == expected.classnames[int(folder)]


@pytest.mark.parametrize("name", sorted(FAKE_LAYOUTS))
def test_missing_dataset_folder_error_names_path_and_layout(tmp_path, name):
    expected_dir = FAKE_LAYOUTS[name](str(tmp_path / "elsewhere")).dataset_dir
    folder = os.path.basename(expected_dir)
    with pytest.raises(DatasetLayoutError) as error:
        build(tmp_path, name)
    message = str(error.value)
    assert str(tmp_path / folder) in message
    assert f"    {folder}/" in message  # the tree
    assert "DATASETS.md" in message
    assert isinstance(error.value, FileNotFoundError)


def test_missing_root_error_names_root(tmp_path):
    missing = tmp_path / "no_such_root"
    with pytest.raises(DatasetLayoutError, match="no_such_root"):
        build(missing, "Caltech101")


def test_empty_root_error_names_the_config_key():
    with pytest.raises(DatasetLayoutError, match="DATASET.ROOT is empty"):
        build("", "OxfordPets")


@pytest.mark.parametrize("name", sorted(SPLIT_FILE_DATASETS))
def test_missing_split_file_is_refused_not_redrawn(tmp_path, name):
    expected = FAKE_LAYOUTS[name](str(tmp_path))
    split_path = os.path.join(expected.dataset_dir, SPLIT_FILE_DATASETS[name])
    os.remove(split_path)
    with pytest.raises(DatasetLayoutError) as error:
        build(tmp_path, name)
    assert split_path in str(error.value)
    assert "no new random split" in str(error.value)
    assert not os.path.exists(split_path)


def test_missing_image_folder_error_names_it(tmp_path):
    expected = FAKE_LAYOUTS["Caltech101"](str(tmp_path))
    image_dir = os.path.join(expected.dataset_dir, "101_ObjectCategories")
    shutil.rmtree(image_dir)
    with pytest.raises(DatasetLayoutError, match="image folder not found") as error:
        build(tmp_path, "Caltech101")
    assert image_dir in str(error.value)


@pytest.mark.parametrize(
    "name", ["ImageNet", "ImageNetV2", "ImageNetSketch", "ImageNetA", "ImageNetR"]
)
def test_missing_classnames_file_error_names_it(tmp_path, name):
    expected = FAKE_LAYOUTS[name](str(tmp_path))
    os.remove(os.path.join(expected.dataset_dir, "classnames.txt"))
    with pytest.raises(DatasetLayoutError) as error:
        build(tmp_path, name)
    assert os.path.join(expected.dataset_dir, "classnames.txt") in str(error.value)


def test_split_listing_missing_images_reports_their_count(tmp_path):
    expected = FAKE_LAYOUTS["DescribableTextures"](str(tmp_path))
    removed = sorted(glob.glob(os.path.join(expected.dataset_dir, "images", "banded", "*.jpg")))
    for path in removed:
        os.remove(path)
    with pytest.raises(MissingImagesError) as error:
        build(tmp_path, "DescribableTextures")
    message = str(error.value)
    assert f"{len(removed)} of 24 images" in message
    assert removed[0] in message


def test_fgvc_aircraft_list_with_missing_images_reports_their_count(tmp_path):
    expected = FAKE_LAYOUTS["FGVCAircraft"](str(tmp_path))
    os.remove(os.path.join(expected.dataset_dir, "images", "1000001.jpg"))
    with pytest.raises(MissingImagesError, match="1 of 12 images"):
        build(tmp_path, "FGVCAircraft")


def test_fgvc_aircraft_missing_annotation_file_error_names_it(tmp_path):
    expected = FAKE_LAYOUTS["FGVCAircraft"](str(tmp_path))
    os.remove(os.path.join(expected.dataset_dir, "images_variant_val.txt"))
    with pytest.raises(DatasetLayoutError, match="images_variant_val.txt"):
        build(tmp_path, "FGVCAircraft")


def test_imagenet_lists_are_cached_and_reused(tmp_path, capsys):
    expected = FAKE_LAYOUTS["ImageNet"](str(tmp_path))
    first = build(tmp_path, "ImageNet")
    assert os.path.isfile(os.path.join(expected.dataset_dir, "preprocessed.pkl"))
    # The cache is what the second build reads: it no longer needs classnames.txt.
    os.remove(os.path.join(expected.dataset_dir, "classnames.txt"))
    capsys.readouterr()
    second = build(tmp_path, "ImageNet")
    assert "Loading preprocessed ImageNet lists" in capsys.readouterr().out
    assert [item.impath for item in second.train_x] == [item.impath for item in first.train_x]
    assert second.val is second.test


def test_imagenet_fewshot_caches_training_images_only(tmp_path):
    expected = FAKE_LAYOUTS["ImageNet"](str(tmp_path))
    dataset = build(tmp_path, "ImageNet", num_shots=2, seed=3)
    assert len(dataset.train_x) == 2 * len(expected.classnames)
    assert len(dataset.test) == expected.num_test
    assert dataset.val is dataset.test
    cache = os.path.join(expected.dataset_dir, "split_fewshot", "shot_2-seed_3.pkl")
    assert set(load_datum_lists(cache, "few-shot cache")) == {"train"}


def test_imagenet_a_and_r_label_only_the_wnid_folders_present(tmp_path):
    expected = FAKE_LAYOUTS["ImageNetA"](str(tmp_path))
    dataset = build(tmp_path, "ImageNetA")
    assert dataset.classnames == ["goldfish", "tiger shark"] == expected.classnames
    assert not any("README" in item.impath for item in dataset.test)


def test_imagenetv2_missing_numbered_folder_error_names_it(tmp_path):
    expected = FAKE_LAYOUTS["ImageNetV2"](str(tmp_path))
    folder = os.path.join(expected.dataset_dir, "imagenetv2-matched-frequency-format-val", "2")
    shutil.rmtree(folder)
    with pytest.raises(DatasetLayoutError, match="1 of 12 class folders") as error:
        build(tmp_path, "ImageNetV2")
    assert folder in str(error.value)


def test_wnid_folder_missing_from_classnames_is_an_error(tmp_path):
    expected = FAKE_LAYOUTS["ImageNetSketch"](str(tmp_path))
    os.makedirs(os.path.join(expected.dataset_dir, "images", "n99999999"))
    with pytest.raises(ValueError, match="n99999999"):
        build(tmp_path, "ImageNetSketch")
