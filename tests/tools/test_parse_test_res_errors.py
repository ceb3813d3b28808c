"""parse_test_res.py: a NaN result or a run with other options is skipped with its reason, never
averaged in; a folder with nothing to average and argument mistakes end in one Error: line."""

import json
import os

import numpy as np
import pytest

from parse_test_res import main
from tests.tools.cli_checks import exit_status, one_error_line


def summary_line(stdout):
    return next(line for line in stdout.splitlines() if line.startswith("* "))


def test_a_nan_result_is_skipped_not_averaged(runs, capsys):
    experiment = runs.path("exp")
    for seed, accuracy in ((1, 70.0), (2, 50.0), (3, 74.0)):
        runs.run(os.path.join(experiment, f"seed{seed}"), accuracy)
    log_path = os.path.join(experiment, "seed2", "log.txt")
    with open(log_path) as file:
        log = file.read().replace("* accuracy: 50.0%", "* accuracy: nan%")
    with open(log_path, "w") as file:
        file.write(log)
    assert main([experiment]) == 0
    captured = capsys.readouterr()
    assert summary_line(captured.out) == f"* accuracy: 72.00% +- {np.std([70.0, 74.0]):.2f}%"
    assert "seed2: skipped, accuracy is nan (a diverged run?)" in captured.err


def test_a_run_with_other_options_is_skipped_naming_the_option(runs, capsys):
    experiment = runs.path("exp")
    for seed, accuracy in ((1, 70.0), (2, 90.0), (3, 74.0)):
        run_dir = runs.run(os.path.join(experiment, f"seed{seed}"), accuracy)
        options = {"SEED": seed, "DATASET.NUM_SHOTS": 4 if seed == 2 else 16}
        with open(os.path.join(run_dir, "run_options.json"), "w") as file:
            json.dump(options, file)
    assert main([experiment]) == 0
    captured = capsys.readouterr()
    assert summary_line(captured.out).startswith("* accuracy: 72.00%")
    assert "seed2: skipped, ran with other options than seed1 (DATASET.NUM_SHOTS: 4 vs 16)" in (
        captured.err
    )


def test_nothing_to_average_is_one_error_line_and_status_1(runs, capsys):
    experiment = runs.path("exp")
    os.makedirs(os.path.join(experiment, "seed1"))
    assert main([experiment]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "Error" in line]
    assert len(errors) == 1 and errors[0].startswith("Error: no run in")


@pytest.mark.parametrize("argv", [["/no/such/folder"], ["--kewyord", "x", "."]])
def test_argument_mistakes_are_one_error_line(argv, capsys):
    assert exit_status(main, argv) == 2
    one_error_line(capsys)
