"""A split file is checked against its own class list: every inconsistency is an error that
names the file and the entry, before any image is read."""

import json

import pytest

from datasets.splits import SplitFileError, read_split_file

CLASSES = ["cat", "dog", "owl", "fox"]


def entry(split, index, label):
    return [f"{CLASSES[label]}/{split}_{index}.jpg", label, CLASSES[label]]


def consistent_split():
    """Two training, one val and one test image per class, labels 0..3."""
    return {
        "train": [entry("train", i, label) for label in range(4) for i in range(2)],
        "val": [entry("val", 0, label) for label in range(4)],
        "test": [entry("test", 0, label) for label in range(4)],
    }


def read(tmp_path, split):
    path = tmp_path / "split.json"
    path.write_text(json.dumps(split))
    return read_split_file(str(path), "Toy")


def test_a_consistent_split_is_read_unchanged(tmp_path):
    entries = read(tmp_path, consistent_split())
    assert entries["test"] == [tuple(entry("test", 0, label)) for label in range(4)]


def label_with_two_names(split):
    split["test"][1][2] = "wolf"  # label 1 is "dog" everywhere else


def name_with_two_labels(split):
    split["test"].append(["owl/extra.jpg", 4, "owl"])  # "owl" has label 2 everywhere else


def label_beyond_the_classes(split):
    split["test"][3] = ["fox/test_0.jpg", 7, "lynx"]  # a fifth class, labelled 7


def duplicate_image(split):
    split["train"][5] = list(split["train"][4])


def train_test_overlap(split):
    split["test"][0] = list(split["train"][0])


def class_missing_from_train(split):
    split["train"] = [item for item in split["train"] if item[1] != 3]


# corruption -> the text the error must hold (the entry and what is wrong)
CASES = {
    label_with_two_names: (
        "\"test\"[1] pairs label 1 with class 'wolf', but \"train\"[2] pairs 1 with 'dog'"
    ),
    name_with_two_labels: (
        "\"test\"[4] pairs label 4 with class 'owl', but \"train\"[4] pairs 'owl' with 2"
    ),
    label_beyond_the_classes: (
        "the labels of 5 classes must be 0..4, but label 7 ('lynx') is used at \"test\"[3]"
    ),
    duplicate_image: "\"train\"[5]: the image 'owl/train_0.jpg' is also listed at \"train\"[4]",
    train_test_overlap: "\"test\"[0]: the image 'cat/train_0.jpg' is also listed at \"train\"[0]",
    class_missing_from_train: "\"val\"[3]: class 3 ('fox') has no training image",
}


@pytest.mark.parametrize("corrupt", list(CASES), ids=lambda corrupt: corrupt.__name__)
def test_an_inconsistent_split_is_refused_naming_the_entry(corrupt, tmp_path):
    split = consistent_split()
    corrupt(split)
    with pytest.raises(SplitFileError) as raised:
        read(tmp_path, split)
    message = str(raised.value)
    assert message.startswith(f"Toy: {tmp_path / 'split.json'} is not a valid split file: ")
    assert CASES[corrupt] in message
