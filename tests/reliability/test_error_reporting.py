"""train.py reports a UserError as one "Error: ..." message, exit status 2; bugs keep tracebacks."""

import os
import subprocess
import sys

import pytest

import train
from run.user_errors import ConfigError, UserError, short_message
from tests.reliability.train_args import REPO_ROOT, toy_argv


def test_user_error_is_one_error_line_on_stderr_with_status_2_and_no_traceback(toy, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "train.py",
            *toy_argv(toy, tmp_path / "run", trainer="CoOp"),
            "OPTIM.LRR",
            "0.1",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert error_lines == [
        'Error: Unknown config key "OPTIM.LRR" on the command line. Did you mean "OPTIM.LR"?'
    ]
    assert "Traceback" not in result.stderr


def test_unexpected_exception_keeps_its_traceback(toy, tmp_path, run_train, monkeypatch):
    def broken_build_trainer(cfg):
        raise RuntimeError("a bug")

    monkeypatch.setattr(train, "build_trainer", broken_build_trainer)
    with pytest.raises(RuntimeError, match="a bug"):
        run_train(toy_argv(toy, tmp_path / "run"))


def test_error_after_the_log_is_open_is_also_written_to_the_log(toy, tmp_path, run_train):
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, "INPUT.SIZE", "(64, 64)"))
    assert result.status == 2
    log = (output_dir / "log.txt").read_text()
    assert log.rstrip().splitlines()[-1].startswith("Error: INPUT.SIZE (64, 64) does not match")


def test_user_errors_are_also_the_builtin_errors_callers_expect():
    error = ConfigError("x")
    assert isinstance(error, UserError) and isinstance(error, ValueError)


def test_short_message_drops_the_dataloader_worker_traceback():
    class CorruptImageError(UserError, OSError):
        pass

    wrapped = CorruptImageError(
        "Caught CorruptImageError in DataLoader worker process 0.\n"
        "Original Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        'datasets.robust_reading.CorruptImageError: Cannot read image "a.jpg".\nSecond line.\n'
    )
    assert short_message(wrapped) == 'Cannot read image "a.jpg".\nSecond line.'
    assert short_message(CorruptImageError("plain")) == "plain"


def test_early_errors_leave_no_output_folder(toy, tmp_path, run_train):
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, trainer="CoOp", flags=["--trainer", "Nope"]))
    assert result.status == 2
    assert not os.path.exists(output_dir)
