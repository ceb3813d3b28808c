"""classnames.txt and wnid class folders (datasets/imagenet_folders.py)."""

import os

from datasets.imagenet_folders import list_class_folders, read_classnames, read_labelled_folders
from tests.datasets.fake_layouts import write_jpeg, write_text


def test_read_classnames_keeps_file_order_and_multiword_names(tmp_path):
    path = str(tmp_path / "classnames.txt")
    write_text(path, ["n01484850 great white shark", "n01440764 tench", ""])
    classnames = read_classnames(path)
    assert list(classnames.items()) == [("n01484850", "great white shark"), ("n01440764", "tench")]


def test_list_class_folders_is_sorted_and_skips_files_and_hidden(tmp_path):
    for name in ("n02", "n01", ".cache"):
        os.makedirs(tmp_path / name)
    write_text(str(tmp_path / "README.txt"), ["notes"])
    assert list_class_folders(str(tmp_path)) == ["n01", "n02"]


def test_read_labelled_folders_labels_and_sorts_images(tmp_path):
    for name in ("b.jpg", "a.jpg"):
        write_jpeg(str(tmp_path / "n01" / name))
    write_jpeg(str(tmp_path / "n02" / "c.jpg"))
    items = read_labelled_folders(str(tmp_path), [("n01", 0, "tench"), ("n02", 1, "goldfish")])
    assert [(os.path.basename(i.impath), i.label, i.classname) for i in items] == [
        ("a.jpg", 0, "tench"),
        ("b.jpg", 0, "tench"),
        ("c.jpg", 1, "goldfish"),
    ]
