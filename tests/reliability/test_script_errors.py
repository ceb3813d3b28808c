"""The method scripts check their arguments first and stop with one line; the order of the extra
options does not change which run folder is meant."""

import os
import subprocess

import pytest

from tests.reliability.train_args import REPO_ROOT

FAKE_PYTHON = """#!/bin/bash
# stands in for python: records the train.py arguments
printf '%s\\n' "$@" >> "$CALLS"
"""


@pytest.fixture
def script(tmp_path):
    """``script(name, *args, **env)`` runs scripts/coop/<name>.sh with a recording python."""
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    data = tmp_path / "data"
    data.mkdir()

    def run(name, *args, **env):
        calls = tmp_path / "calls.txt"
        if calls.exists():
            calls.unlink()
        environment = dict(
            os.environ,
            PYTHON=str(fake),
            CALLS=str(calls),
            DATA=str(data),
            OUTPUT=str(tmp_path / "output"),
            **env,
        )
        completed = subprocess.run(
            ["bash", os.path.join(REPO_ROOT, "scripts", "coop", f"{name}.sh"), *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        completed.calls = calls.read_text().splitlines() if calls.exists() else []
        return completed

    return run


BAD_ARGUMENTS = {
    "non-numeric seed": (
        ("caltech101", "one"),
        {},
        'SEED must be a whole number >= 0 (e.g. 1), got "one".',
    ),
    "negative seed": (
        ("caltech101", "-1"),
        {},
        'SEED must be a whole number >= 0 (e.g. 1), got "-1".',
    ),
    "dataset typo": (("caltech", "1"), {}, 'Unknown dataset "caltech". Known: caltech101 dtd'),
    "zero shots": (("caltech101", "1"), {"SHOTS": "0"}, 'SHOTS must be a whole number >= 1'),
    "shots typo": (("caltech101", "1"), {"SHOTS": "16x"}, 'SHOTS must be a whole number >= 1'),
}


@pytest.mark.parametrize("name", ["base2new_train", "base2new_test"])
@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_a_bad_argument_stops_the_script_with_one_line(case, name, script):
    args, env, expected = BAD_ARGUMENTS[case]
    completed = script(name, *args, **env)
    assert completed.returncode == 2
    assert len(completed.stderr.strip().splitlines()) == 1
    assert completed.stderr.startswith("Error: " + expected)
    assert completed.calls == []  # train.py never started


def output_dir_of(calls):
    return calls[calls.index("--output-dir") + 1]


def test_the_same_options_in_another_order_mean_the_same_run(script):
    first = script("base2new_train", "caltech101", "1", "OPTIM.LR", "0.01", "OPTIM.MAX_EPOCH", "2")
    second = script("base2new_train", "caltech101", "1", "OPTIM.MAX_EPOCH", "2", "OPTIM.LR", "0.01")
    other = script("base2new_train", "caltech101", "1", "OPTIM.MAX_EPOCH", "3", "OPTIM.LR", "0.01")
    assert first.returncode == second.returncode == other.returncode == 0
    assert output_dir_of(first.calls) == output_dir_of(second.calls)
    assert output_dir_of(other.calls) != output_dir_of(first.calls)


def test_a_key_given_twice_keeps_its_order(script):
    """The last value wins in train.py, so swapping the two values is another run."""
    first = script("base2new_train", "caltech101", "1", "OPTIM.LR", "0.1", "OPTIM.LR", "0.2")
    second = script("base2new_train", "caltech101", "1", "OPTIM.LR", "0.2", "OPTIM.LR", "0.1")
    assert output_dir_of(first.calls) != output_dir_of(second.calls)
