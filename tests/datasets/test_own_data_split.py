"""A user's dataset: the split drawn once (recorded seed and fractions) and reused, changes to
the data refused with one message, the errors of classes that are too small, few-shot and
base/new as for the benchmarks, and the same data as a folder or a CSV giving the same split."""

import errno
import json
import os
from collections import Counter

import pytest
from dassl.data.datasets import DATASET_REGISTRY

import datasets  # noqa: F401  (registers ImageFolder and ImageCSV)
from datasets.own_data_listing import OwnDataError
from datasets.own_data_split import images_needed, split_sizes
from tests.datasets.own_data_fixtures import make_image_folder, own_cfg, write_csv, write_image

COUNTS = {"red_circle": 10, "blue_ring": 12, "green_square": 10, "yellow_cross": 11}
SPLIT_FILE = "split_zhou_shapes.json"


def build(cfg):
    return DATASET_REGISTRY.get(cfg.DATASET.NAME)(cfg)


@pytest.fixture
def shapes(tmp_path):
    make_image_folder(tmp_path / "shapes", COUNTS)
    return tmp_path


def test_first_run_writes_a_split_zhou_file_with_seed_and_fractions(shapes):
    dataset = build(own_cfg(shapes, "ImageFolder", "shapes"))
    with open(shapes / "shapes" / SPLIT_FILE) as file:
        split = json.load(file)
    assert split["seed"] == 1 and split["fractions"] == [0.5, 0.2, 0.3]
    # labels follow the sorted class names; every class is cut at round(n * 0.5), round(n * 0.2)
    names = ["blue ring", "green square", "red circle", "yellow cross"]
    assert dataset.classnames == names
    for key, position in (("train", 0), ("val", 1), ("test", 2)):
        per_class = Counter(name for _, _, name in split[key])
        for folder, count in COUNTS.items():
            assert (
                per_class[folder.replace("_", " ")] == split_sizes(count, (0.5, 0.2, 0.3))[position]
            )
        for relpath, label, name in split[key]:
            assert names[label] == name and relpath.startswith(name.replace(" ", "_") + os.sep)
    every = [relpath for key in ("train", "val", "test") for relpath, _, _ in split[key]]
    assert sorted(every) == sorted(
        os.path.join(folder, f"{i:03d}.png") for folder, n in COUNTS.items() for i in range(n)
    )
    assert len(dataset.train_x) == len(split["train"]) and len(dataset.test) == len(split["test"])


def test_later_runs_reuse_the_split_whatever_their_seed(shapes):
    build(own_cfg(shapes, "ImageFolder", "shapes"))
    path = shapes / "shapes" / SPLIT_FILE
    before = path.read_bytes()
    os.utime(path, (1, 1))
    dataset = build(own_cfg(shapes, "ImageFolder", "shapes", "SEED", 7, "DATASET.NUM_SHOTS", 2))
    assert path.read_bytes() == before and os.stat(path).st_mtime == 1
    split = json.loads(before)
    train = {os.path.relpath(item.impath, shapes / "shapes") for item in dataset.train_x}
    assert train <= {relpath for relpath, _, _ in split["train"]}
    assert Counter(item.label for item in dataset.train_x) == {0: 2, 1: 2, 2: 2, 3: 2}


def test_another_split_seed_draws_another_split(tmp_path):
    for seed in (1, 2):
        make_image_folder(tmp_path / f"s{seed}" / "shapes", COUNTS)
        build(
            own_cfg(tmp_path / f"s{seed}", "ImageFolder", "shapes", "DATASET.OWN.SPLIT_SEED", seed)
        )
    first, second = (
        json.loads((tmp_path / f"s{seed}" / "shapes" / SPLIT_FILE).read_text()) for seed in (1, 2)
    )
    assert first["train"] != second["train"]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda folder: write_image(str(folder / "red_circle" / "new.png"), 3), "1 images added"),
        (lambda folder: os.remove(folder / "blue_ring" / "000.png"), "1 images removed"),
        (
            lambda folder: os.rename(
                folder / "blue_ring" / "000.png", folder / "red_circle" / "moved.png"
            ),
            "1 images added .* 1 images removed",
        ),
    ],
)
def test_a_changed_folder_is_refused_not_split_again(shapes, change, message):
    build(own_cfg(shapes, "ImageFolder", "shapes"))
    path = shapes / "shapes" / SPLIT_FILE
    before = path.read_bytes()
    change(shapes / "shapes")
    with pytest.raises(
        OwnDataError, match=f"changed since its split .* was drawn: {message}"
    ) as info:
        build(own_cfg(shapes, "ImageFolder", "shapes"))
    assert "\n" not in str(info.value) and f"delete {path}" in str(info.value)
    assert path.read_bytes() == before


def test_a_relabelled_image_in_the_csv_is_refused(tmp_path):
    rows = [(relpath, relpath.split(os.sep)[0]) for relpath in make_image_folder(tmp_path, COUNTS)]
    write_csv(tmp_path / "shapes.csv", rows)
    build(own_cfg(tmp_path, "ImageCSV", "shapes.csv"))
    rows[0] = (rows[0][0], "yellow_cross")
    write_csv(tmp_path / "shapes.csv", rows)
    with pytest.raises(OwnDataError, match="1 images of another class"):
        build(own_cfg(tmp_path, "ImageCSV", "shapes.csv"))


def test_other_split_options_than_recorded_are_refused(shapes):
    build(own_cfg(shapes, "ImageFolder", "shapes"))
    with pytest.raises(OwnDataError, match="drawn with DATASET.OWN.SPLIT_SEED 1 .* not 3"):
        build(own_cfg(shapes, "ImageFolder", "shapes", "DATASET.OWN.SPLIT_SEED", 3))
    with pytest.raises(OwnDataError, match="SPLIT_FRACTIONS"):
        build(
            own_cfg(shapes, "ImageFolder", "shapes", "DATASET.OWN.SPLIT_FRACTIONS", (0.6, 0.2, 0.2))
        )


def test_impossible_fractions_are_refused(shapes):
    with pytest.raises(OwnDataError, match="must be three fractions"):
        build(
            own_cfg(shapes, "ImageFolder", "shapes", "DATASET.OWN.SPLIT_FRACTIONS", (0.5, 0.5, 0.5))
        )
    assert not (shapes / "shapes" / SPLIT_FILE).exists()


def test_class_too_small_for_shots_val_and_test_is_named(shapes):
    # 15 images: round(7.5) = 8 training, 3 validation and 4 test images; 14 give 7 training
    assert images_needed((0.5, 0.2, 0.3), 8) == 15
    # red_circle and green_square have 10 images, blue_ring 12: the first in label order is named
    with pytest.raises(
        OwnDataError, match=r'Class "blue_ring" .* has 12 images, fewer than the 15'
    ):
        build(own_cfg(shapes, "ImageFolder", "shapes", "DATASET.NUM_SHOTS", 8))
    assert not (shapes / "shapes" / SPLIT_FILE).exists()


def test_images_needed_is_the_smallest_count_that_fills_every_list():
    for shots in (1, 2, 4, 8, 16):
        needed = images_needed((0.5, 0.2, 0.3), shots)
        train, val, test = split_sizes(needed, (0.5, 0.2, 0.3))
        assert train >= shots and val >= 1 and test >= 1
        smaller = split_sizes(needed - 1, (0.5, 0.2, 0.3))
        assert smaller[0] < shots or smaller[1] < 1 or smaller[2] < 1


def test_folder_and_csv_of_the_same_data_give_the_same_split(tmp_path):
    relpaths = make_image_folder(tmp_path / "shapes", COUNTS)
    write_csv(
        tmp_path / "shapes" / "list.csv",
        [(p, p.split(os.sep)[0].replace("_", " ")) for p in relpaths],
    )
    folder = build(own_cfg(tmp_path, "ImageFolder", "shapes"))
    from_csv = build(own_cfg(tmp_path, "ImageCSV", "shapes/list.csv"))
    for key in ("train_x", "val", "test"):
        assert [(d.impath, d.label, d.classname) for d in getattr(folder, key)] == [
            (d.impath, d.label, d.classname) for d in getattr(from_csv, key)
        ]
    assert (tmp_path / "shapes" / "split_zhou_list.json").is_file()


def test_base_and_new_are_the_first_half_of_the_labels_and_the_rest(shapes):
    base = build(own_cfg(shapes, "ImageFolder", "shapes", "DATASET.SUBSAMPLE_CLASSES", "base"))
    new = build(own_cfg(shapes, "ImageFolder", "shapes", "DATASET.SUBSAMPLE_CLASSES", "new"))
    assert base.classnames == ["blue ring", "green square"]
    assert new.classnames == ["red circle", "yellow cross"]
    assert {d.label for d in new.test} == {0, 1}


def test_read_only_data_folder_keeps_its_split_in_the_cache(shapes, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    import datasets.own_data_split as own_data_split

    real_write = own_data_split.write_new_file
    beside = str(shapes / "shapes" / SPLIT_FILE)

    def read_only_beside(path, text):
        if path == beside:
            raise OSError(errno.EROFS, "Read-only file system", path)
        real_write(path, text)

    monkeypatch.setattr(own_data_split, "write_new_file", read_only_beside)
    first = build(own_cfg(shapes, "ImageFolder", "shapes", "DATASET.NUM_SHOTS", 2))
    cached = [
        os.path.join(parent, name)
        for parent, _, names in os.walk(tmp_path / "cache")
        for name in names
        if name == SPLIT_FILE
    ]
    assert len(cached) == 1 and not os.path.exists(beside)
    monkeypatch.setattr(own_data_split, "write_new_file", lambda *_: pytest.fail("rewritten"))
    again = build(own_cfg(shapes, "ImageFolder", "shapes", "DATASET.NUM_SHOTS", 2))
    assert [d.impath for d in again.test] == [d.impath for d in first.test]


def test_few_shot_cache_belongs_to_one_split(shapes):
    build(own_cfg(shapes, "ImageFolder", "shapes", "DATASET.NUM_SHOTS", 2))
    fewshot = sorted(os.listdir(shapes / "shapes" / "split_fewshot"))
    assert len(fewshot) == 1 and fewshot[0].startswith("shot_2-seed_1-split_")
    os.remove(shapes / "shapes" / SPLIT_FILE)
    build(
        own_cfg(
            shapes, "ImageFolder", "shapes", "DATASET.NUM_SHOTS", 2, "DATASET.OWN.SPLIT_SEED", 5
        )
    )
    assert len(os.listdir(shapes / "shapes" / "split_fewshot")) == 2
