"""A run folder belongs to one run: one process at a time, one set of options, and an evaluation
never replaces a training result."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from run.result_file import config_digest
from run.run_folder import LOCK_FILE, RunFolderBusy, run_folder_lock
from tests.reliability.train_args import REPO_ROOT, toy_argv

HOLD_THE_FOLDER = """
    import sys, time
    from run.run_folder import run_folder_lock
    with run_folder_lock(sys.argv[1]):
        print("holding", flush=True)
        time.sleep(120)
"""


def hold_folder_in_another_process(folder):
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_THE_FOLDER), str(folder)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "holding"
    return process


def test_a_second_run_on_a_held_folder_is_refused_and_a_killed_holder_frees_it(
    toy, tmp_path, run_train
):
    output_dir = tmp_path / "run"
    holder = hold_folder_in_another_process(output_dir)
    try:
        result = run_train(toy_argv(toy, output_dir, trainer="ZeroshotCLIP"))
        assert result.status == 2
        assert f"Another run (process {holder.pid}) is using {output_dir}" in result.err
        assert not os.path.exists(output_dir / "log.txt")  # it wrote nothing there
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with run_folder_lock(str(output_dir)):  # the kernel released the killed holder's lock
        with pytest.raises(RunFolderBusy):
            with run_folder_lock(str(output_dir)):  # a second open file is a second holder
                pass
    with open(output_dir / LOCK_FILE) as f:
        assert f.read().strip() == str(os.getpid())


@pytest.fixture(scope="module")
def trained(toy_data_root, tmp_path_factory):
    """A finished two-epoch CoOp run (its folder is copied by tests that change it)."""
    from tests.reliability.conftest import toy_paths
    from tests.reliability.train_args import train_quietly

    toy = toy_paths(toy_data_root)
    output_dir = tmp_path_factory.mktemp("trained") / "run"
    status, out = train_quietly(toy_argv(toy, output_dir, epochs=2))
    assert status == 0, out[-3000:]
    return output_dir


def test_evaluation_into_the_training_folder_is_refused(toy, trained, run_train):
    before = (trained / "result.json").read_text()
    flags = ["--eval-only", "--model-dir", str(trained)]
    result = run_train(toy_argv(toy, trained, "DATASET.SUBSAMPLE_CLASSES", "new", flags=flags))
    assert result.status == 2
    assert f"--output-dir {trained} is the folder of a training run" in result.err
    assert "Give the evaluation its own --output-dir" in result.err
    assert (trained / "result.json").read_text() == before


def test_resuming_with_other_options_is_refused_naming_the_option_and_the_way_out(
    toy, trained, tmp_path, run_train
):
    result = run_train(toy_argv(toy, trained, "OPTIM.LR", 0.01, epochs=2))
    assert result.status == 2
    assert "holds a run started with other options (OPTIM.LR: 0.002 -> 0.01)" in result.err
    assert "another --output-dir (or delete that folder)" in result.err
    assert f"listed in {trained}/run_options.json" in result.err


def test_the_same_run_in_another_folder_has_the_same_digest(toy, trained, tmp_path, run_train):
    from run.config import setup_cfg
    from train import parse_args

    digests = {
        config_digest(setup_cfg(parse_args(toy_argv(toy, folder, epochs=2))))
        for folder in (trained, tmp_path / "elsewhere")
    }
    with open(trained / "result.json") as f:
        assert digests == {json.load(f)["config_digest"]}


def test_the_result_records_the_digest_of_the_clip_weights_it_used(toy, trained):
    from prompting.clip_loading import load_clip_to_cpu, weights_digest

    with open(trained / "result.json") as f:
        recorded = json.load(f)["clip_weights_digest"]
    assert recorded == weights_digest(load_clip_to_cpu(toy.tiny_clip_path).state_dict())


def test_resumed_after_its_last_epoch_a_run_records_that_epoch(toy, trained, tmp_path, run_train):
    """Killed after its last checkpoint but before result.json: the rerun trains no epoch."""
    copy = tmp_path / "run"
    subprocess.run(["cp", "-r", str(trained), str(copy)], check=True)
    os.remove(copy / "result.json")
    result = run_train(toy_argv(toy, copy, epochs=2))
    assert result.status == 0, result.err
    assert "epoch [" not in result.out  # no epoch trained again
    with open(copy / "result.json") as f:
        assert json.load(f)["epoch"] == 2


def test_a_failed_start_does_not_lock_the_options(toy, tmp_path, run_train):
    """Options are compared only once the folder holds checkpoints or a result."""
    output_dir = tmp_path / "run"
    output_dir.mkdir()
    (output_dir / "run_options.json").write_text(json.dumps({"OPTIM.LR": 1.0}))
    result = run_train(toy_argv(toy, output_dir, trainer="ZeroshotCLIP", flags=["--eval-only"]))
    assert result.status == 0, result.err
    with open(output_dir / "run_options.json") as f:
        assert json.load(f)["(run mode)"] == "evaluation"
