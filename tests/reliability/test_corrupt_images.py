"""DATALOADER.CORRUPT_IMAGE_POLICY: "fail" names the unreadable file and the fix, "skip" replaces
it by the next readable item with a counted warning."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from dassl.data.datasets import Datum

from datasets.robust_reading import CorruptImageError, RobustDatasetWrapper
from run.config import project_cfg_default
from tests.reliability.train_args import REPO_ROOT, toy_argv


def toy_images(toy, count):
    with open(toy.split_path) as f:
        relpaths = [relpath for relpath, _, _ in json.load(f)["test"]]
    return [os.path.join(toy.image_dir, relpath) for relpath in relpaths[:count]]


def damage(path, how):
    if how == "garbage":
        with open(path, "wb") as f:
            f.write(b"this is not a jpeg")
    else:  # truncated: the header is fine, the pixel data is cut off
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])


def make_wrapper(paths, policy):
    cfg = project_cfg_default()
    cfg.DATALOADER.CORRUPT_IMAGE_POLICY = policy
    items = [
        Datum(impath=path, label=index, classname=f"c{index}") for index, path in enumerate(paths)
    ]
    return RobustDatasetWrapper(cfg, items, transform=None)


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_fail_policy_names_the_file_and_the_fix(toy, tmp_path, how):
    paths = [shutil.copy(path, tmp_path) for path in toy_images(toy, 3)]
    damage(paths[1], how)
    wrapper = make_wrapper(paths, "fail")
    assert wrapper[0]["label"] == 0
    with pytest.raises(CorruptImageError) as error:
        wrapper[1]
    assert f'Cannot read image "{paths[1]}"' in str(error.value)
    assert "DATALOADER.CORRUPT_IMAGE_POLICY skip" in str(error.value)


def test_skip_policy_replaces_the_item_by_the_next_readable_and_counts(toy, tmp_path, capsys):
    paths = [shutil.copy(path, tmp_path) for path in toy_images(toy, 4)]
    damage(paths[1], "garbage")
    damage(paths[2], "truncated")
    wrapper = make_wrapper(paths, "skip")
    item = wrapper[1]
    assert (item["label"], item["index"], item["impath"]) == (3, 3, paths[3])
    assert sorted(wrapper.unreadable) == [1, 2]
    warnings = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("Warning:")
    ]
    assert len(warnings) == 2
    assert paths[1] in warnings[0] and warnings[0].endswith("Unreadable images so far: 1")
    assert paths[2] in warnings[1] and warnings[1].endswith("Unreadable images so far: 2")
    assert wrapper[2]["label"] == 3  # known bad items are skipped without reading them again
    assert capsys.readouterr().out == ""


def test_skip_policy_gives_up_when_no_image_can_be_read(toy, tmp_path):
    paths = [shutil.copy(path, tmp_path) for path in toy_images(toy, 2)]
    for path in paths:
        damage(path, "garbage")
    with pytest.raises(CorruptImageError, match="None of the 2 images"):
        make_wrapper(paths, "skip")[0]


def test_a_failing_transform_of_a_readable_image_is_not_blamed_on_the_file(toy, tmp_path):
    def broken_transform(image):
        raise ValueError("transform bug")

    wrapper = make_wrapper(toy_images(toy, 1), "skip")
    wrapper.transform = broken_transform
    with pytest.raises(ValueError, match="transform bug"):
        wrapper[0]


def corrupt_first_test_image(toy_copy):
    path = toy_images(toy_copy, 1)[0]
    damage(path, "garbage")
    return path


def test_fail_policy_through_train_py_is_one_error_message(toy_copy, tmp_path, run_train):
    path = corrupt_first_test_image(toy_copy)
    result = run_train(
        toy_argv(toy_copy, tmp_path / "run", trainer="ZeroshotCLIP", flags=["--eval-only"])
    )
    assert result.status == 2
    assert f'Error: Cannot read image "{path}"' in result.err


def test_fail_policy_in_a_loader_worker_still_gives_the_short_message(toy_copy, tmp_path):
    # a subprocess: a failed worker iterator collected in-process waits 5 s for its worker
    path = corrupt_first_test_image(toy_copy)
    argv = toy_argv(
        toy_copy,
        tmp_path / "run",
        "DATALOADER.NUM_WORKERS",
        1,
        trainer="ZeroshotCLIP",
        flags=["--eval-only"],
    )
    result = subprocess.run(
        [sys.executable, "train.py", *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    error_line = result.stderr[result.stderr.index("Error: ") :]
    assert error_line.startswith(f'Error: Cannot read image "{path}"')
    assert "Original Traceback" not in result.stderr and "worker process" not in result.stderr


def test_skip_policy_through_train_py_leaves_the_unreadable_image_out_and_says_so(
    toy_copy, tmp_path, run_train
):
    path = corrupt_first_test_image(toy_copy)
    output_dir = tmp_path / "run"
    result = run_train(
        toy_argv(
            toy_copy,
            output_dir,
            "DATALOADER.CORRUPT_IMAGE_POLICY",
            "skip",
            trainer="ZeroshotCLIP",
            flags=["--eval-only"],
        )
    )
    assert result.status == 0, result.err
    with open(output_dir / "result.json") as f:
        record = json.load(f)
    # the base half of the 24 test images, less the unreadable one (not its replacement twice)
    assert record["total"] == 11 and record["unreadable_left_out"] == 1
    log = (output_dir / "log.txt").read_text()
    assert f'Warning: skipped unreadable image "{path}"' in log
    assert "Note: 1 unreadable test images are left out of the results" in log
