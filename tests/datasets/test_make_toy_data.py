"""The toy data writer (tools/make_toy_data.py) produces a Caltech101 that the reader loads."""

import filecmp
import os

import numpy as np
import pytest
from dassl.data.datasets import DATASET_REGISTRY
from PIL import Image

import datasets  # noqa: F401  (registers the datasets)
from tests.datasets.fake_layouts import dataset_cfg
from tools.make_toy_data import make_toy_caltech101


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_caltech101(str(tmp_path_factory.mktemp("toy")))


def test_toy_data_loads_as_caltech101_with_coop_split_sizes(toy):
    dataset = DATASET_REGISTRY.get("Caltech101")(dataset_cfg(toy.root, "Caltech101"))
    assert dataset.classnames == toy.classnames
    assert len(toy.classnames) == 6
    # 12 images per class: 6 train, 2 val, 4 test.
    assert (len(dataset.train_x), len(dataset.val), len(dataset.test)) == (36, 12, 24)
    assert toy.split_sizes == {"train": 36, "val": 12, "test": 24}
    assert all(name == name.lower() and " " not in name for name in toy.classnames)
    with Image.open(dataset.test[0].impath) as image:
        assert image.size == (32, 32) and image.mode == "RGB"
    assert os.path.isfile(os.path.join(toy.root, "tiny_clip.pt"))
    assert toy.tiny_clip_path == os.path.join(toy.root, "tiny_clip.pt")


def test_toy_base_and_new_halves_are_equal(toy):
    base = DATASET_REGISTRY.get("Caltech101")(dataset_cfg(toy.root, "Caltech101", subsample="base"))
    new = DATASET_REGISTRY.get("Caltech101")(dataset_cfg(toy.root, "Caltech101", subsample="new"))
    assert base.classnames == toy.classnames[:3]
    assert new.classnames == toy.classnames[3:]


def test_toy_classes_are_separable_by_a_nearest_centroid_classifier(toy):
    dataset = DATASET_REGISTRY.get("Caltech101")(dataset_cfg(toy.root, "Caltech101"))

    def features(item):
        """Mean colour of the saturated (shape, not grey background) pixels."""
        with Image.open(item.impath) as image:
            pixels = np.asarray(image, dtype=np.float32).reshape(-1, 3) / 255
        saturated = pixels.max(axis=1) - pixels.min(axis=1) > 0.25
        return pixels[saturated].mean(axis=0)

    centroids = np.stack(
        [
            np.mean([features(item) for item in dataset.train_x if item.label == label], axis=0)
            for label in range(dataset.num_classes)
        ]
    )
    predictions = [
        int(np.argmin(((centroids - features(item)) ** 2).sum(axis=1))) for item in dataset.test
    ]
    assert predictions == [item.label for item in dataset.test]


def test_toy_data_is_deterministic_for_a_seed(tmp_path):
    options = dict(num_classes=2, images_per_class=3, image_size=16)
    first = make_toy_caltech101(str(tmp_path / "a"), seed=5, **options)
    second = make_toy_caltech101(str(tmp_path / "b"), seed=5, **options)
    other = make_toy_caltech101(str(tmp_path / "c"), seed=6, **options)

    relpath = os.path.join("101_ObjectCategories", first.classnames[0], "image_0001.jpg")
    assert filecmp.cmp(first.split_path, second.split_path, shallow=False)
    assert filecmp.cmp(
        os.path.join(first.dataset_dir, relpath),
        os.path.join(second.dataset_dir, relpath),
        shallow=False,
    )
    assert not filecmp.cmp(
        os.path.join(first.dataset_dir, relpath),
        os.path.join(other.dataset_dir, relpath),
        shallow=False,
    )


def test_toy_data_refuses_an_odd_number_of_classes(tmp_path):
    with pytest.raises(ValueError, match="even"):
        make_toy_caltech101(str(tmp_path), num_classes=5)
