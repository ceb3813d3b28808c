"""make_toy_data.py, make_world_data.py and make_tiny_clip.py: an impossible value or output path
is one Error: line before anything is written; Ctrl-C is one line."""

import os

import pytest

from tests.tools.cli_checks import exit_status, one_error_line
from tools import make_tiny_clip, make_toy_data, make_world_data


@pytest.mark.parametrize(
    "argv, problem",
    [
        (["--classes", "3"], "--classes 3"),
        (["--classes", "12"], "--classes 12"),
        (["--per-class", "2"], "--per-class 2"),
        (["--size", "4"], "--size 4"),
        (["--seed", "-1"], "--seed -1"),
        (["--seed", str(2**32)], "0..4294967295"),
        (["--classes", "two"], "invalid int value"),
    ],
)
def test_toy_data_refuses_impossible_values_before_writing(tmp_path, capsys, argv, problem):
    root = tmp_path / "toy"
    assert exit_status(make_toy_data.main, ["--root", str(root), *argv]) == 2
    assert problem in one_error_line(capsys)
    assert not root.exists()


@pytest.mark.parametrize("main", [make_toy_data.main, make_world_data.main])
def test_a_root_that_is_a_file_or_under_one_is_one_line(tmp_path, capsys, main):
    (tmp_path / "file").write_text("mine")
    for root in (tmp_path / "file", tmp_path / "file" / "below"):
        assert exit_status(main, ["--root", str(root)]) == 2
        assert "is a file, not a folder" in one_error_line(capsys)
    assert (tmp_path / "file").read_text() == "mine"


def test_world_data_refuses_a_seed_out_of_range(tmp_path, capsys):
    assert exit_status(make_world_data.main, ["--root", str(tmp_path / "w"), "--seed", "-3"]) == 2
    assert "--seed -3" in one_error_line(capsys)
    assert not (tmp_path / "w").exists()


def test_a_read_only_root_is_one_line(tmp_path, capsys):
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        if os.access(read_only, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        assert exit_status(make_toy_data.main, ["--root", str(read_only / "toy")]) == 2
        assert "is not writable" in one_error_line(capsys)
    finally:
        read_only.chmod(0o700)


def test_tiny_clip_refuses_an_out_that_is_a_folder(tmp_path, capsys):
    assert exit_status(make_tiny_clip.main, ["--out", str(tmp_path)]) == 2
    assert "is a folder" in one_error_line(capsys)


def test_ctrl_c_is_one_line(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(make_toy_data, "make_toy_caltech101", interrupted)
    assert exit_status(make_toy_data.main, ["--root", str(tmp_path / "toy")]) == 130
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
