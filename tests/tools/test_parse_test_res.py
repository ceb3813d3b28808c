import os
import subprocess
import sys

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO_ROOT, "parse_test_res.py")


def _run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)


def _summary_line(stdout):
    return next(line for line in stdout.splitlines() if line.startswith("* "))


def test_mean_and_std_over_seed_folders_with_both_end_signals(runs):
    experiment = runs.path("exp")
    for seed, accuracy, signal in (
        (1, 87.3, "Finish training"),
        (2, 86.1, "Finished training"),
        (3, 88.0, "both"),
    ):
        runs.run(
            os.path.join(experiment, f"seed{seed}"), accuracy, signal=signal, val_accuracy=10.0
        )
    completed = _run(experiment)
    assert completed.returncode == 0, completed.stderr
    values = [87.3, 86.1, 88.0]
    assert _summary_line(completed.stdout) == (
        f"* accuracy: {np.mean(values):.2f}% +- {np.std(values):.2f}%"
    )
    assert "seed2: accuracy: 86.10%" in completed.stdout


def test_ci95_and_keyword(runs):
    experiment = runs.path("exp")
    for seed, accuracy in ((1, 70.0), (2, 72.0)):
        runs.run(os.path.join(experiment, f"seed{seed}"), accuracy)
    completed = _run(experiment, "--ci95", "--keyword", "macro_f1")
    values = [69.6, 71.6]
    ci95 = 1.96 * np.std(values) / np.sqrt(2)
    assert _summary_line(completed.stdout) == f"* macro_f1: {np.mean(values):.2f}% +- {ci95:.2f}%"


def test_eval_only_logs_need_test_log(runs):
    experiment = runs.path("exp")
    for seed, accuracy in ((1, 64.2), (2, 66.0), (3, 65.1)):
        runs.run(os.path.join(experiment, f"seed{seed}"), accuracy, eval_only=True)
    without = _run(experiment)
    assert without.returncode == 1 and "use --test-log" in without.stderr
    completed = _run(experiment, "--test-log")
    values = [64.2, 66.0, 65.1]
    assert _summary_line(completed.stdout) == (
        f"* accuracy: {np.mean(values):.2f}% +- {np.std(values):.2f}%"
    )


def test_multi_exp_averages_the_experiment_means_and_json_gives_full_precision(runs):
    for name, accuracies in (("exp_a", (60.0, 62.0)), ("exp_b", (70.0, 71.0))):
        for seed, accuracy in enumerate(accuracies, start=1):
            runs.run(
                runs.path("all", name, f"seed{seed}"), accuracy, json_accuracy=accuracy + 0.0123
            )
    completed = _run(runs.path("all"), "--multi-exp")
    assert completed.stdout.splitlines()[-2:] == [
        "Average over 2/2 experiments",
        "* accuracy: 65.75%",
    ]
    with_json = _run(runs.path("all", "exp_a"), "--use-json")
    assert "seed1: accuracy: 60.01%" in with_json.stdout
    assert "result.json" in with_json.stdout
