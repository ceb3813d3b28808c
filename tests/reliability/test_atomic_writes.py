"""Checkpoints, result.json and few-shot caches are written whole or not at all: a crash or a kill
mid-write leaves the previous file and the `checkpoint` pointer intact."""

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from dassl.utils import load_checkpoint, resume_from_checkpoint, save_checkpoint

from datasets.splits import SplitFileError, read_fewshot_cache, write_pickle_atomic
from run.atomic_files import (
    atomic_path,
    is_temporary_name_of,
    temporary_path,
    write_atomic,
    write_json_atomic,
)
from run.result_file import write_result_file
from tests.reliability.train_args import REPO_ROOT


class Killed(BaseException):
    """Stands for the process dying in the middle of a write."""


def half_written():
    def write(obj, file, *args, **kwargs):
        file.write(b"partial" if "b" in getattr(file, "mode", "b") else "partial")
        raise Killed()

    return write


def state(epoch):
    return {
        "state_dict": {"ctx": torch.full((4, 8), float(epoch))},
        "epoch": epoch,
        "optimizer": None,
        "scheduler": None,
    }


def test_interrupted_checkpoint_write_keeps_the_previous_checkpoint_and_pointer(
    tmp_path, monkeypatch
):
    save_checkpoint(state(1), str(tmp_path))
    monkeypatch.setattr(torch, "save", half_written())
    with pytest.raises(Killed):
        save_checkpoint(state(2), str(tmp_path))
    monkeypatch.undo()

    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model.pth.tar-1"]
    assert (tmp_path / "checkpoint").read_text() == "model.pth.tar-1\n"
    model = torch.nn.Module()
    model.ctx = torch.nn.Parameter(torch.zeros(4, 8))
    assert resume_from_checkpoint(str(tmp_path), model) == 1
    assert torch.equal(model.ctx.detach(), torch.full((4, 8), 1.0))


KILLED_WRITER = textwrap.dedent("""
    import sys
    import dassl_setup
    import torch
    from dassl.utils import save_checkpoint
    for epoch in range(1, 100_000):  # 8 MB per checkpoint
        weights = torch.full((2_000_000,), float(epoch))
        save_checkpoint({"state_dict": {"w": weights}, "epoch": epoch}, sys.argv[1])
""")


@pytest.mark.slow
def test_sigkill_during_checkpoint_writes_never_leaves_a_pointer_to_a_broken_file(tmp_path):
    for attempt, delay in enumerate((0.05, 0.2, 0.45)):
        save_dir = tmp_path / f"attempt{attempt}"
        process = subprocess.Popen(
            [sys.executable, "-c", KILLED_WRITER, str(save_dir)],
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
        )
        while not (save_dir / "checkpoint").exists() and process.poll() is None:
            time.sleep(0.005)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL

        latest = (save_dir / "checkpoint").read_text().strip()
        checkpoint = load_checkpoint(str(save_dir / latest))
        assert latest == f"model.pth.tar-{checkpoint['epoch']}"
        assert torch.all(checkpoint["state_dict"]["w"] == checkpoint["epoch"])


def test_interrupted_result_file_write_keeps_the_previous_result(tmp_path, monkeypatch):
    write_result_file(str(tmp_path), {"accuracy": 90.0})
    monkeypatch.setattr(json, "dump", half_written())
    with pytest.raises(Killed):
        write_result_file(str(tmp_path), {"accuracy": 10.0})
    monkeypatch.undo()
    assert json.loads((tmp_path / "result.json").read_text()) == {"accuracy": 90.0}
    assert os.listdir(tmp_path) == ["result.json"]


def test_interrupted_fewshot_cache_write_leaves_no_cache(tmp_path, monkeypatch):
    path = str(tmp_path / "split_fewshot" / "shot_2-seed_1.pkl")
    monkeypatch.setattr(pickle, "dump", half_written())
    with pytest.raises(Killed):
        write_pickle_atomic({"train": [1, 2]}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path / "split_fewshot") == []
    write_pickle_atomic({"train": [1, 2]}, path)
    assert read_fewshot_cache(path) == {"train": [1, 2]}


def test_a_broken_fewshot_cache_is_named_with_the_fix(tmp_path):
    path = tmp_path / "shot_2-seed_1.pkl"
    path.write_bytes(pickle.dumps({"train": [1, 2]})[:10])
    with pytest.raises(SplitFileError, match=rf"few-shot cache {path} cannot be read.*Delete it"):
        read_fewshot_cache(str(path))


def test_the_atomic_helper_replaces_whole_and_leaves_nothing_on_failure(tmp_path):
    path = str(tmp_path / "report.json")
    write_json_atomic(path, {"a": 1})
    with pytest.raises(Killed):
        write_atomic(path, lambda file: (file.write("{half"), half_written()(None, file)))
    assert json.loads(open(path).read()) == {"a": 1}
    assert os.listdir(tmp_path) == ["report.json"]


def test_the_temporary_name_is_per_process_and_recognised_exactly(tmp_path):
    path = str(tmp_path / "result.json")
    assert temporary_path(path) == f"{path}.tmp.{os.getpid()}"
    assert is_temporary_name_of(os.path.basename(temporary_path(path)), "result.json")
    for name in ("result.json.tmp.", "result.json.tmp.1x", "xresult.json.tmp.1", "result.json"):
        assert not is_temporary_name_of(name, "result.json"), name


def test_a_symlink_written_atomically_replaces_the_old_link(tmp_path):
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    link = str(tmp_path / "current")
    for target in ("a", "b"):
        with atomic_path(link) as tmp_link:
            os.symlink(target, tmp_link)
    assert os.readlink(link) == "b" and sorted(os.listdir(tmp_path)) == ["a", "b", "current"]
