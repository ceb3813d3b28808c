"""Reading a user's folder of class sub-folders or CSV file, item by item, and its class names."""

import os

import pytest

from datasets.own_data_listing import (
    OwnDataError,
    class_names,
    labelled_classes,
    list_image_csv,
    list_image_folder,
    normalize_class_name,
)
from tests.datasets.own_data_fixtures import make_image_folder, write_csv, write_image


def test_folder_lists_every_image_with_its_class_folder(tmp_path):
    folder = tmp_path / "pets"
    paths = make_image_folder(folder, {"golden_retriever": 2, "tabby_cat": 3})
    write_image(str(folder / "tabby_cat" / "kittens" / "deep.JPG"), 7)  # nested, upper case
    (folder / "tabby_cat" / "notes.txt").write_text("not an image")
    (folder / "tabby_cat" / ".hidden.png").write_text("hidden")
    listing = list_image_folder(str(folder))
    expected = {path: path.split(os.sep)[0] for path in paths}
    expected[os.path.join("tabby_cat", "kittens", "deep.JPG")] = "tabby_cat"
    assert listing.images == expected
    assert listing.base_dir == str(folder)


def test_folder_skips_the_ignored_entries(tmp_path):
    folder = tmp_path / "pets"
    make_image_folder(folder, {"cat": 1, "split_fewshot": 1})
    assert set(list_image_folder(str(folder), ignored=("split_fewshot",)).images.values()) == {
        "cat"
    }


def test_empty_class_folder_is_refused_by_name(tmp_path):
    folder = tmp_path / "pets"
    make_image_folder(folder, {"cat": 2})
    os.makedirs(folder / "dog")
    with pytest.raises(OwnDataError, match='Class folder "dog" .* holds no image'):
        list_image_folder(str(folder))


def test_folder_without_class_folders_is_refused(tmp_path):
    os.makedirs(tmp_path / "flat")
    write_image(str(tmp_path / "flat" / "a.png"), 1)
    with pytest.raises(OwnDataError, match="no class sub-folders"):
        list_image_folder(str(tmp_path / "flat"))


def test_csv_lists_every_line_relative_to_its_folder(tmp_path):
    make_image_folder(tmp_path / "img", {"a": 2})
    absolute = str(tmp_path / "img" / "a" / "001.png")
    write_csv(
        tmp_path / "data.csv",
        [("img/a/000.png", "red_circle"), (absolute, '"blue, ring"')],
    )
    listing = list_image_csv(str(tmp_path / "data.csv"))
    assert listing.images == {
        os.path.join("img", "a", "000.png"): "red_circle",
        absolute: "blue, ring",
    }
    assert listing.base_dir == str(tmp_path)


def test_csv_without_header_reads_its_first_line(tmp_path):
    make_image_folder(tmp_path, {"a": 1})
    write_csv(tmp_path / "data.csv", [("a/000.png", "cat")], header=False)
    assert list_image_csv(str(tmp_path / "data.csv")).images == {
        os.path.join("a", "000.png"): "cat"
    }


@pytest.mark.parametrize("bad_line", ["a/000.png", "a/000.png,cat,extra", ",cat", "a/000.png,  "])
def test_csv_line_that_does_not_parse_is_named_by_number(tmp_path, bad_line):
    make_image_folder(tmp_path, {"a": 1})
    (tmp_path / "data.csv").write_text(f"path,class\na/000.png,cat\n\n{bad_line}\n")
    with pytest.raises(OwnDataError, match=r"data.csv, line 4: .* is not 'path,class name'"):
        list_image_csv(str(tmp_path / "data.csv"))


def test_csv_image_with_two_classes_is_refused(tmp_path):
    make_image_folder(tmp_path, {"a": 1})
    write_csv(tmp_path / "data.csv", [("a/000.png", "cat"), ("a/000.png", "dog")])
    with pytest.raises(OwnDataError, match="line 3: .* listed again with another class"):
        list_image_csv(str(tmp_path / "data.csv"))


def test_csv_listing_missing_images_is_refused(tmp_path):
    write_csv(tmp_path / "data.csv", [("nowhere.png", "cat")])
    with pytest.raises(OwnDataError, match="1 images that do not exist"):
        list_image_csv(str(tmp_path / "data.csv"))


def test_class_names_come_from_folder_names():
    assert normalize_class_name("golden_retriever") == "golden retriever"
    assert normalize_class_name("  red__circle ") == "red circle"
    assert class_names(["golden_retriever", "tabby cat"]) == {
        "golden_retriever": "golden retriever",
        "tabby cat": "tabby cat",
    }


def test_class_names_from_a_file(tmp_path):
    (tmp_path / "names.txt").write_text("n01 golden retriever\nn02 tabby_cat\n")
    names = class_names(["n02", "n01"], str(tmp_path / "names.txt"))
    assert names == {"n01": "golden retriever", "n02": "tabby cat"}


def test_class_names_file_must_name_every_class_and_no_other(tmp_path):
    (tmp_path / "names.txt").write_text("n01 golden retriever\nn03 tabby cat\n")
    with pytest.raises(OwnDataError, match="names no class for 1 classes of the data, e.g. 'n02'"):
        class_names(["n01", "n02", "n03"], str(tmp_path / "names.txt"))
    with pytest.raises(OwnDataError, match="names class 'n03', which the data does not have"):
        class_names(["n01"], str(tmp_path / "names.txt"))


@pytest.mark.parametrize("pair", [("golden_retriever", "golden retriever"), ("Cat", "cat")])
def test_duplicate_class_names_after_normalisation_are_refused(pair):
    with pytest.raises(OwnDataError, match="both become the class name"):
        class_names(pair)


def test_labels_follow_normalised_names_so_folder_and_csv_agree():
    folder_keys = class_names(["red_ring", "red circle2", "redbox"])
    csv_keys = class_names(["red ring", "red_circle2", "redbox"])
    assert [folder_keys[key] for key in labelled_classes(folder_keys)] == [
        csv_keys[key] for key in labelled_classes(csv_keys)
    ]
