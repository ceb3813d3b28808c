"""train.py's last gaps: a class name longer than CLIP's context, a warm-up longer than the run and
a seed numpy cannot take are one Error: line before training; a full disk names the file that
could not be written; I/O errors count as write failures; log.txt is written line by line."""

import errno
import json
import os
import pickle
import sys

import pytest
from dassl.utils import Logger

from run.atomic_files import write_atomic
from run.disk_errors import disk_write_error, is_write_failure
from tests.reliability.train_args import toy_argv
from train import setup_run_log

LONG_CLASS = "extraordinarily " * 40 + "long class"


def error_lines(result):
    return [line for line in result.err.strip().splitlines() if line]


def test_a_class_name_longer_than_the_context_is_one_error_naming_it(toy_copy, tmp_path, run_train):
    with open(toy_copy.split_path) as file:
        split = json.load(file)
    renamed = split["train"][0][2]
    for items in split.values():
        for item in items:
            if item[2] == renamed:
                item[2] = LONG_CLASS
    with open(toy_copy.split_path, "w") as file:
        json.dump(split, file)
    result = run_train(toy_argv(toy_copy, tmp_path / "run", "DATASET.SUBSAMPLE_CLASSES", "all"))
    assert result.status == 2
    (line,) = error_lines(result)
    assert line.startswith("Error: The prompt") and "long class" in line
    assert "77 tokens" in line and "Traceback" not in result.err
    assert not (tmp_path / "run" / "result.json").exists()


@pytest.mark.parametrize(
    "options, problem",
    [
        (("OPTIM.WARMUP_EPOCH", 3), "OPTIM.WARMUP_EPOCH is 3, longer than the run"),
        (("SEED", 2**32), f"SEED (--seed) is {2**32}"),
    ],
)
def test_impossible_schedule_or_seed_is_refused_before_training(
    toy, tmp_path, run_train, options, problem
):
    result = run_train(toy_argv(toy, tmp_path / "run", *options, epochs=2))
    assert result.status == 2
    (line,) = error_lines(result)
    assert problem in line
    assert not (tmp_path / "run" / "prompt_learner").exists()


def test_a_warmup_as_long_as_the_run_is_accepted(toy, tmp_path, run_train):
    result = run_train(toy_argv(toy, tmp_path / "run", "OPTIM.WARMUP_EPOCH", 1, epochs=1))
    assert result.status == 0, result.err


def test_a_full_disk_during_an_atomic_write_names_the_target_file(tmp_path):
    target = str(tmp_path / "data" / "split_fewshot" / "shot_2-seed_1.pkl")
    os.makedirs(os.path.dirname(target))

    def fill_disk(file):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as raised:
        write_atomic(target, fill_disk, binary=True)
    assert raised.value.filename == target
    message = str(disk_write_error(raised.value.filename, raised.value))
    assert message.startswith(f"Cannot write {target} (the disk is full")
    assert os.listdir(os.path.dirname(target)) == []


def test_a_full_disk_writing_the_fewshot_cache_names_it_not_the_output_folder(
    toy_copy, tmp_path, run_train, monkeypatch
):
    def fill_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pickle, "dump", fill_disk)
    result = run_train(toy_argv(toy_copy, tmp_path / "run"))
    assert result.status == 2
    (line,) = error_lines(result)
    cache = os.path.join(toy_copy.dataset_dir, "split_fewshot", "shot_2-seed_1.pkl")
    assert line.startswith(f"Error: Cannot write {cache} (the disk is full")


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EIO, "Input/output error"),
        OSError(errno.EFBIG, "File too large"),
        RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 4160 vs 4054"),
    ],
)
def test_io_errors_and_torchs_short_write_are_write_failures(error):
    assert is_write_failure(error)


def test_other_errors_are_not_write_failures():
    assert not is_write_failure(OSError(errno.ENOENT, "No such file"))
    assert not is_write_failure(RuntimeError("shape mismatch"))


def test_the_run_log_is_written_line_by_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # restored after the test
    for start in ("new", "again"):  # a new log, then one appended to by a resumed run
        setup_run_log(str(tmp_path))
        try:
            print(f"epoch line ({start})")
            with open(tmp_path / "log.txt") as log:  # read before anything flushes or closes
                assert f"epoch line ({start})\n" in log.read()
        finally:
            sys.stdout.file.close()
            sys.stdout = sys.stdout.console


def test_the_subsets_logger_is_line_buffered(tmp_path):
    logger = Logger(str(tmp_path / "log.txt"))
    try:
        assert logger.file.line_buffering
    finally:
        logger.close()
