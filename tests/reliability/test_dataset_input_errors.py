"""Dataset problems reach the user as one message naming the path and the fix."""

import json
import os

from tests.reliability.train_args import toy_argv


def test_unset_root_says_to_pass_root_before_building_anything(toy, tmp_path, run_train):
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, flags=["--root", ""]))
    assert result.status == 2
    assert "Error: Caltech101: DATASET.ROOT is empty; set it (--root)" in result.err
    assert not os.path.exists(output_dir)


def test_root_that_is_not_a_folder_is_named_with_the_expected_layout(toy, tmp_path, run_train):
    missing = tmp_path / "no_such_root"
    result = run_train(toy_argv(toy, tmp_path / "run", flags=["--root", missing]))
    assert result.status == 2
    assert f"DATASET.ROOT folder not found: {missing}" in result.err
    assert "split_zhou_Caltech101.json" in result.err  # the layout tree is drawn
    assert "Traceback" not in result.err


def test_missing_split_file_is_named(toy_copy, tmp_path, run_train):
    os.remove(toy_copy.split_path)
    result = run_train(toy_argv(toy_copy, tmp_path / "run", flags=["--no-train"]))
    assert result.status == 2
    assert f"split file not found: {toy_copy.split_path}" in result.err


def test_split_listing_missing_images_counts_and_names_them(toy_copy, tmp_path, run_train):
    with open(toy_copy.split_path) as f:
        split = json.load(f)
    gone = [split["test"][0][0], split["train"][3][0]]
    for relpath in gone:
        os.remove(os.path.join(toy_copy.image_dir, relpath))
    result = run_train(toy_argv(toy_copy, tmp_path / "run", flags=["--no-train"]))
    assert result.status == 2
    total = sum(len(items) for items in split.values())
    assert (
        f"Caltech101: 2 of {total} images listed in {toy_copy.split_path} do not exist"
        in result.err
    )
    for relpath in gone:
        assert os.path.join(toy_copy.image_dir, relpath) in result.err


def test_more_shots_than_a_class_has_is_an_error_naming_the_classes(toy_copy, tmp_path, run_train):
    result = run_train(
        toy_argv(toy_copy, tmp_path / "run", "DATASET.NUM_SHOTS", 50, flags=["--no-train"])
    )
    assert result.status == 2
    assert "DATASET.NUM_SHOTS 50, but 6 classes have fewer training images" in result.err
    assert "red_circle (6)" in result.err and "FEWER_SHOTS_POLICY warn" in result.err


def test_more_shots_than_a_class_has_is_a_warning_line_with_the_warn_policy(
    toy_copy, tmp_path, run_train
):
    result = run_train(
        toy_argv(
            toy_copy,
            tmp_path / "run",
            "DATASET.NUM_SHOTS",
            50,
            "DATASET.FEWER_SHOTS_POLICY",
            "warn",
            flags=["--no-train"],
        )
    )
    assert result.status == 0
    warnings = [
        line
        for line in result.out.splitlines()
        if line.startswith("Warning: 6 classes have fewer than 50 training images")
    ]
    assert len(warnings) == 1
    assert "red_circle (6)" in warnings[0]
