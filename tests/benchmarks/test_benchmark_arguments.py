"""The benchmarks' command lines: an impossible count or output path is one Error: line before
anything is measured."""

import pytest

from benchmarks import bench_data_loading, bench_distributed, bench_trainers
from run.tool_cli import reports_user_errors
from tests.tools.cli_checks import exit_status

CASES = [
    (bench_trainers.cli, ["--steps", "0"], "--steps 0"),
    (bench_trainers.cli, ["--classes", "10", "-2"], "--classes -2"),
    (bench_trainers.cli, ["--warmup", "-1"], "--warmup -1"),
    (bench_trainers.cli, ["--seed", "-1"], "--seed -1"),
    (bench_trainers.cli, ["--methods", "NoSuch"], "invalid choice"),
    (bench_data_loading.cli, ["--batch-size", "0"], "--batch-size 0"),
    (bench_data_loading.cli, ["--workers", "-1"], "--workers -1"),
    (bench_data_loading.cli, ["--config", "/no/such.yaml"], "is not a file"),
    (reports_user_errors(bench_distributed.main), ["--global-batch", "0"], "--global-batch 0"),
]


@pytest.mark.parametrize("cli, argv, problem", CASES)
def test_impossible_values_are_one_error_line(capsys, cli, argv, problem):
    assert exit_status(cli, argv) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("Error: ") and problem in errors[0], errors


@pytest.mark.parametrize("cli", [bench_trainers.cli, bench_data_loading.cli])
def test_a_json_path_that_is_a_folder_is_one_error_line(capsys, tmp_path, cli):
    assert exit_status(cli, ["--json", str(tmp_path)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and "is a folder" in errors[0]
