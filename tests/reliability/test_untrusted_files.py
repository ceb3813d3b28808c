"""No pickled file a user hands in runs code: crafted checkpoints and caches are refused in one
line naming the file and the type, while the files Dassl and this project write still load."""

import argparse
import builtins
import os
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from dassl.data.datasets import Datum
from dassl.optim.lr_scheduler import ConstantWarmupScheduler

import datasets  # noqa: F401  (registers the datasets)
from datasets.splits import fewshot_cache_path, read_fewshot_cache, write_pickle_atomic
from run.untrusted_files import (
    TRUSTED_FILES_VARIABLE,
    UnsafeFileError,
    load_checkpoint_file,
    load_datum_lists,
)
from tests.datasets.fake_layouts import FAKE_LAYOUTS
from tests.datasets.test_dataset_layouts import build
from tests.reliability.test_checkpoint_errors import evaluate
from tests.reliability.train_args import toy_argv

# the name the pickle stores for the payload's callable (builtins.open is io.open)
PAYLOAD = f"{builtins.open.__module__}.{builtins.open.__name__}"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CreatesMarker:
    """Unpickling this calls ``open(marker, "w")``: the file appears if the payload ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


def crafted_checkpoint(path, marker):
    torch.save({"state_dict": {}, "epoch": 1, "payload": CreatesMarker(marker)}, path)
    return path


def crafted_cache(path, marker):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({"train": [CreatesMarker(marker)], "val": []}))
    return path


def test_a_crafted_checkpoint_is_refused_naming_file_and_type_and_does_not_run(tmp_path):
    marker = tmp_path / "ran"
    path = crafted_checkpoint(tmp_path / "model.pth.tar-1", marker)
    with pytest.raises(UnsafeFileError) as error:
        load_checkpoint_file(str(path))
    assert str(path) in str(error.value) and PAYLOAD in str(error.value)
    assert TRUSTED_FILES_VARIABLE in str(error.value)
    assert not marker.exists()


def test_an_upstream_dassl_checkpoint_with_its_warmup_successor_loads_and_resumes(tmp_path):
    """Upstream's warm-up scheduler state holds the successor scheduler object, and through it
    the optimizer (a defaultdict state); val_result and scheduler values may be numpy scalars."""
    parameter = torch.nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.SGD([parameter], lr=0.1, momentum=0.9)
    parameter.grad = torch.ones(3)
    optimizer.step()
    successor = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 10)
    for _ in range(3):
        optimizer.step()
        successor.step()
    upstream_scheduler_state = {"successor": successor, "warmup_epoch": 1, "cons_lr": 1e-5}
    upstream_scheduler_state.update(last_epoch=3, _step_count=4, base_lrs=[0.1])
    path = tmp_path / "model.pth.tar-3"
    torch.save(
        {
            "state_dict": {"ctx": torch.ones(2, 4)},
            "epoch": 3,
            "optimizer": optimizer.state_dict(),
            "scheduler": upstream_scheduler_state,
            "val_result": np.float64(71.5),
            "seen": np.int64(12),
        },
        path,
    )
    checkpoint = load_checkpoint_file(str(path))
    assert torch.equal(checkpoint["state_dict"]["ctx"], torch.ones(2, 4))
    assert checkpoint["val_result"] == 71.5 and checkpoint["seen"] == 12
    assert checkpoint["scheduler"]["successor"].last_epoch == 3

    fresh = torch.optim.SGD([torch.nn.Parameter(torch.zeros(3))], lr=0.1, momentum=0.9)
    fresh.load_state_dict(checkpoint["optimizer"])
    momentum = optimizer.state_dict()["state"][0]["momentum_buffer"]
    assert torch.equal(fresh.state_dict()["state"][0]["momentum_buffer"], momentum)
    resumed = ConstantWarmupScheduler(
        fresh, torch.optim.lr_scheduler.CosineAnnealingLR(fresh, 10), 1, 1e-5
    )
    resumed.load_state_dict(checkpoint["scheduler"])
    assert resumed.successor.last_epoch == 3
    assert resumed.successor.get_last_lr() == pytest.approx(successor.get_last_lr())


def test_a_file_listed_as_trusted_is_read_with_plain_pickle(tmp_path, monkeypatch):
    path = tmp_path / "trusted.pth"
    torch.save({"state_dict": {}, "scheduler": argparse.Namespace(last_epoch=4)}, path)
    with pytest.raises(UnsafeFileError, match="argparse.Namespace"):
        load_checkpoint_file(str(path))
    monkeypatch.setenv(TRUSTED_FILES_VARIABLE, os.pathsep.join(["/elsewhere.pth", str(path)]))
    assert load_checkpoint_file(str(path))["scheduler"].last_epoch == 4


def test_a_crafted_fewshot_cache_is_refused_and_does_not_run(tmp_path):
    marker = tmp_path / "ran"
    path = crafted_cache(tmp_path / "split_fewshot" / "shot_2-seed_1.pkl", marker)
    with pytest.raises(UnsafeFileError) as error:
        read_fewshot_cache(str(path))
    assert str(path) in str(error.value) and PAYLOAD in str(error.value)
    assert "Delete it" in str(error.value)
    assert not marker.exists()


def test_a_fewshot_cache_of_datum_lists_reads_back_equal(toy, tmp_path):
    image = os.path.join(toy.image_dir, sorted(os.listdir(toy.image_dir))[0])
    image = os.path.join(image, sorted(os.listdir(image))[0])
    items = [Datum(impath=image, label=3, domain=1, classname="face")]
    path = fewshot_cache_path(str(tmp_path / "split_fewshot"), 1, 1)
    write_pickle_atomic({"train": items, "val": items}, path)
    data = read_fewshot_cache(path)
    read = data["train"][0]
    assert (read.impath, read.label, read.domain, read.classname) == (image, 3, 1, "face")


def test_a_crafted_imagenet_list_cache_is_refused_and_does_not_run(tmp_path):
    expected = FAKE_LAYOUTS["ImageNet"](str(tmp_path))
    marker = tmp_path / "ran"
    crafted_cache(tmp_path / expected.dataset_dir / "preprocessed.pkl", marker)
    with pytest.raises(UnsafeFileError, match=r"preprocessed\.pkl.*" + re.escape(PAYLOAD)):
        build(tmp_path, "ImageNet")
    assert not marker.exists()


def test_an_imagenet_list_cache_reads_with_the_restricted_unpickler(tmp_path):
    FAKE_LAYOUTS["ImageNet"](str(tmp_path))
    first = build(tmp_path, "ImageNet")
    cache = os.path.join(tmp_path, "imagenet", "preprocessed.pkl")
    lists = load_datum_lists(cache, "list of ImageNet images")
    assert [item.impath for item in lists["train"]] == [item.impath for item in first.train_x]


def test_train_py_refuses_a_crafted_fewshot_cache_in_one_line(toy_copy, tmp_path, run_train):
    marker = tmp_path / "ran"
    crafted_cache(tmp_path / "data" / "caltech-101" / "split_fewshot" / "shot_2-seed_1.pkl", marker)
    result = run_train(toy_argv(toy_copy, tmp_path / "run"))
    assert result.status == 2
    assert result.err.count("Error:") == 1 and PAYLOAD in result.err
    assert not marker.exists()


def test_eval_of_a_crafted_checkpoint_is_one_error_and_does_not_run(toy, tmp_path, run_train):
    marker = tmp_path / "ran"
    model_dir = tmp_path / "downloaded" / "prompt_learner"
    model_dir.mkdir(parents=True)
    crafted_checkpoint(model_dir / "model.pth.tar-1", marker)
    result = evaluate(run_train, toy, tmp_path / "eval", model_dir.parent)
    assert result.status == 2
    assert result.err.count("Error:") == 1
    assert "model.pth.tar-1" in result.err and PAYLOAD in result.err
    assert not marker.exists() and not (tmp_path / "eval" / "result.json").exists()


def test_resuming_from_a_crafted_checkpoint_is_one_error_and_does_not_run(toy, tmp_path, run_train):
    marker = tmp_path / "ran"
    model_dir = tmp_path / "run" / "prompt_learner"
    model_dir.mkdir(parents=True)
    crafted_checkpoint(model_dir / "model.pth.tar-1", marker)
    (model_dir / "checkpoint").write_text("model.pth.tar-1\n")
    result = run_train(toy_argv(toy, tmp_path / "run", epochs=2))
    assert result.status == 2
    assert result.err.count("Error:") == 1 and PAYLOAD in result.err
    assert not marker.exists()


@pytest.mark.parametrize(
    "converter, trainer",
    [
        ("convert_authors_checkpoint.py", ["--trainer", "IVLP"]),
        ("convert_reference_sep_checkpoint.py", []),
    ],
)
def test_converters_refuse_a_crafted_checkpoint_without_running_it(tmp_path, converter, trainer):
    marker = tmp_path / "ran"
    source = crafted_checkpoint(tmp_path / "model.pth.tar-5", marker)
    result = subprocess.run(
        [
            sys.executable,
            os.path.join("tools", converter),
            *trainer,
            "--src",
            str(source),
            "--out",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert PAYLOAD in result.stderr, result.stderr
    assert not marker.exists()
