"""A run started again in its folder continues log.txt, where the log parsers look."""

import os
import sys

import pytest

import train


@pytest.fixture
def restore_stdout(monkeypatch):
    monkeypatch.setattr(sys, "stdout", sys.stdout)


def close_tee():
    sys.stdout.flush()
    sys.stdout.file.close()


def test_first_run_writes_log_txt(tmp_path, restore_stdout):
    assert train.setup_run_log(str(tmp_path)) == str(tmp_path / "log.txt")
    print("epoch [1/2]")
    close_tee()
    assert (tmp_path / "log.txt").read_text() == "epoch [1/2]\n"


def test_second_run_appends_to_log_txt_instead_of_a_time_suffixed_file(tmp_path, restore_stdout):
    (tmp_path / "log.txt").write_text("epoch [1/2]\n")
    train.setup_run_log(str(tmp_path))
    print("Finish training")
    close_tee()
    lines = (tmp_path / "log.txt").read_text().splitlines()
    assert lines[0] == "epoch [1/2]"
    assert lines[2].endswith("started again in this folder =====")
    assert lines[-1] == "Finish training"
    assert os.listdir(tmp_path) == ["log.txt"]
