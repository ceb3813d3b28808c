"""Faults injected into real runs: Ctrl-C and kills at random points, a damaged latest checkpoint,
a full or read-only disk, a read-only dataset folder, two runs on one folder.

Each ends in the uninterrupted run's result or in one Error line naming the path, with no
temporary file left behind. The tests run as root, where a read-only chmod does not stop writes,
so read-only and full locations are simulated by making the write itself fail with the errno the
kernel would give.
"""

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

import datasets.splits
from tests.reliability.conftest import toy_paths
from tests.reliability.train_args import (
    REPO_ROOT,
    assert_same_final_state,
    toy_argv,
    train_quietly,
)
from trainers.prompt_trainer import PromptTrainer

EPOCHS = 3
BATCHES_PER_EPOCH = 3  # 6 few-shot training images (3 classes x 2 shots), batches of 2


def argv(toy, output_dir, *options):
    return toy_argv(toy, output_dir, "DATALOADER.TRAIN_X.BATCH_SIZE", 2, *options, epochs=EPOCHS)


def temporary_files(folder):
    return [
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if ".tmp" in name
    ]


@pytest.fixture(scope="module")
def reference(toy_data_root, tmp_path_factory):
    """An uninterrupted run, the result every faulted run must end with."""
    output_dir = tmp_path_factory.mktemp("reference") / "run"
    status, out = train_quietly(argv(toy_paths(toy_data_root), output_dir))
    assert status == 0, out[-3000:]
    return output_dir


def interrupt_at_step(monkeypatch, step):
    """Make the ``step``-th training step (1-based) raise KeyboardInterrupt, as Ctrl-C does."""
    original = PromptTrainer.forward_backward
    calls = []

    def forward_backward(self, batch):
        calls.append(1)
        if len(calls) == step:
            raise KeyboardInterrupt
        return original(self, batch)

    monkeypatch.setattr(PromptTrainer, "forward_backward", forward_backward)


RANDOM_STEPS = random.Random(12).sample(range(2, EPOCHS * BATCHES_PER_EPOCH + 1), 3)


@pytest.mark.parametrize(
    "step",
    [RANDOM_STEPS[0]] + [pytest.param(step, marks=pytest.mark.slow) for step in RANDOM_STEPS[1:]],
)
def test_ctrl_c_at_a_random_step_says_how_to_resume_and_the_rerun_matches(
    step, toy, reference, tmp_path, run_train, monkeypatch
):
    output_dir = tmp_path / "run"
    with monkeypatch.context() as patch:
        interrupt_at_step(patch, step)
        interrupted = run_train(argv(toy, output_dir))
    assert interrupted.status == 130
    assert interrupted.err.strip() == (
        "Interrupted. Run the same command again to resume from the last saved epoch."
    )
    assert not os.path.exists(output_dir / "result.json")
    assert temporary_files(output_dir) == []

    resumed = run_train(argv(toy, output_dir))
    assert resumed.status == 0, resumed.err
    assert_same_final_state(output_dir, reference, EPOCHS)


def stop_in_the_last_epoch(toy, output_dir, run_train, monkeypatch):
    """Interrupt in the last epoch: resume checkpoints of epochs 1 and 2 are on disk."""
    with monkeypatch.context() as patch:
        interrupt_at_step(patch, (EPOCHS - 1) * BATCHES_PER_EPOCH + 1)
        assert run_train(argv(toy, output_dir)).status == 130
    model_dir = output_dir / "prompt_learner"
    assert (model_dir / "checkpoint").read_text() == f"model.pth.tar-{EPOCHS - 1}\n"
    assert (model_dir / "model.pth.tar-1").is_file()  # the previous one is kept
    return model_dir


DAMAGES = {
    "truncated": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "empty": lambda path: path.write_bytes(b""),
    "missing": lambda path: path.unlink(),
    "garbage": lambda path: path.write_bytes(b"not a checkpoint" * 10),
}


@pytest.mark.parametrize(
    "damage",
    ["truncated"]
    + [pytest.param(damage, marks=pytest.mark.slow) for damage in ("empty", "missing", "garbage")],
)
def test_unreadable_latest_checkpoint_falls_back_to_the_previous_one(
    damage, toy, reference, tmp_path, run_train, monkeypatch
):
    output_dir = tmp_path / "run"
    model_dir = stop_in_the_last_epoch(toy, output_dir, run_train, monkeypatch)
    DAMAGES[damage](model_dir / f"model.pth.tar-{EPOCHS - 1}")

    resumed = run_train(argv(toy, output_dir))
    assert resumed.status == 0, resumed.err
    assert "cannot be read (cut short?); resuming from model.pth.tar-1 instead" in resumed.out
    assert_same_final_state(output_dir, reference, EPOCHS)  # epoch 2 trained again, identically


@pytest.mark.slow
def test_no_readable_checkpoint_trains_from_scratch(toy, reference, tmp_path, run_train):
    output_dir = tmp_path / "run"
    model_dir = output_dir / "prompt_learner"
    model_dir.mkdir(parents=True)
    (model_dir / "model.pth.tar-1").write_bytes(b"")
    (model_dir / "checkpoint").write_text("model.pth.tar-1\n")
    result = run_train(argv(toy, output_dir))
    assert result.status == 0, result.err
    assert "can be read; training from scratch" in result.out
    assert_same_final_state(output_dir, reference, EPOCHS)


TORCH_DISK_FULL = (
    "[enforce fail at inline_container.cc:626] . unexpected pos 64 vs 0 ... "
    "PytorchStreamWriter failed writing file data/0: file write failed"
)


def test_a_full_disk_while_saving_a_checkpoint_is_one_error_naming_the_folder(
    toy, tmp_path, run_train, monkeypatch
):
    output_dir = tmp_path / "run"

    def save(*args, **kwargs):
        raise RuntimeError(TORCH_DISK_FULL)

    monkeypatch.setattr(torch, "save", save)
    result = run_train(argv(toy, output_dir))
    assert result.status == 2
    assert result.err.strip().startswith(f"Error: Cannot write {output_dir} (the write failed")
    assert "Free some space, or give another --output-dir." in result.err
    assert "PytorchStreamWriter" not in result.err
    assert temporary_files(output_dir) == []


def fail_writes_to(monkeypatch, module, name, target, error_number):
    """Make ``module.name(path, ...)`` fail with ``error_number`` for paths under ``target``."""
    original = getattr(module, name)

    def failing(*args, **kwargs):
        path = str(args[-1])  # makedirs(path), replace(source, path), write_pickle_atomic(x, path)
        if path.startswith(str(target)):
            raise OSError(error_number, os.strerror(error_number), path)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, failing)


def test_a_full_disk_when_writing_the_result_names_the_file(toy, tmp_path, run_train, monkeypatch):
    output_dir = tmp_path / "run"
    fail_writes_to(monkeypatch, os, "replace", output_dir / "result.json", errno.ENOSPC)
    result = run_train(toy_argv(toy, output_dir))
    assert result.status == 2
    assert f"Error: Cannot write {output_dir / 'result.json'} (the disk is full, " in result.err
    assert not os.path.exists(output_dir / "result.json")
    assert temporary_files(output_dir) == []


def test_a_read_only_output_location_is_one_error_naming_it(toy, tmp_path, run_train, monkeypatch):
    read_only = tmp_path / "read_only"
    fail_writes_to(monkeypatch, os, "makedirs", read_only, errno.EROFS)
    result = run_train(argv(toy, read_only / "run"))
    assert result.status == 2
    assert result.err.count("Error: ") == 1
    assert result.err.startswith(f"Error: Cannot write {read_only / 'run'} (the file system is")
    assert "Give a writable --output-dir" in result.err


def test_few_shot_lists_of_a_read_only_dataset_folder_are_cached_in_the_user_cache(
    toy_copy, tmp_path, run_train, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fail_writes_to(
        monkeypatch, datasets.splits, "write_pickle_atomic", toy_copy.dataset_dir, errno.EROFS
    )
    fallback_dir = datasets.splits.user_fewshot_dir(
        os.path.join(toy_copy.dataset_dir, "split_fewshot")
    )
    assert fallback_dir.startswith(str(tmp_path / "cache"))
    fallback = os.path.join(fallback_dir, "shot_2-seed_1.pkl")

    command = toy_argv(toy_copy, tmp_path / "zs", trainer="ZeroshotCLIP", flags=["--eval-only"])
    first = run_train(command)
    assert first.status == 0, first.err
    assert f"is read-only; caching the few-shot lists in {fallback}" in first.out
    assert os.path.isfile(fallback)
    assert not os.path.exists(os.path.join(toy_copy.dataset_dir, "split_fewshot"))

    shutil.rmtree(tmp_path / "zs")
    second = run_train(command)
    assert second.status == 0, second.err
    assert f"Loading preprocessed few-shot data from {fallback}" in second.out


def test_checkpoints_and_caches_follow_the_umask(toy_copy, tmp_path, run_train):
    previous = os.umask(0o002)
    try:
        result = run_train(toy_argv(toy_copy, tmp_path / "run", "SEED", 3))
    finally:
        os.umask(previous)
    assert result.status == 0, result.err
    written = [
        tmp_path / "run" / "prompt_learner" / "model.pth.tar-1",
        tmp_path / "run" / "prompt_learner" / "checkpoint",
        tmp_path / "run" / "result.json",
        os.path.join(toy_copy.dataset_dir, "split_fewshot", "shot_2-seed_3.pkl"),
    ]
    assert {oct(os.stat(path).st_mode & 0o777) for path in written} == {oct(0o664)}


START_WHEN_FLAGGED = """
import os, sys, time
import train
while len(sys.argv) > 1 and sys.argv[1] != "-" and not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
sys.exit(train.cli(sys.argv[2:]))
"""


def start_run_process(toy, output_dir, start_flag="-"):
    """train.py in a subprocess; with ``start_flag`` it imports everything, then waits for that
    file to exist before it starts the run."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            START_WHEN_FLAGGED,
            str(start_flag),
            *map(str, argv(toy, output_dir)),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_runs_started_on_one_folder_one_trains_the_other_is_refused(toy, reference, tmp_path):
    output_dir = tmp_path / "run"
    flag = tmp_path / "start_the_second"
    second = start_run_process(toy, output_dir, flag)  # imported and waiting
    first = start_run_process(toy, output_dir)
    deadline = time.time() + 120
    while not (output_dir / "log.txt").exists() and time.time() < deadline:
        time.sleep(0.01)
    flag.touch()
    second_err = second.communicate(timeout=300)[1]
    first_err = first.communicate(timeout=300)[1]
    assert first.returncode == 0, first_err
    assert second.returncode == 2, second_err
    assert f"Error: Another run (process {first.pid}) is using {output_dir}" in second_err
    assert_same_final_state(output_dir, reference, EPOCHS)
    with open(output_dir / "log.txt") as f:
        assert f.read().count("Finish training") == 1  # one run's log, not two interleaved


KILL_DELAYS = random.Random(7).sample(range(100, 1200), 3)  # centiseconds after the start


@pytest.mark.slow
@pytest.mark.parametrize("delay", [centiseconds / 100 for centiseconds in KILL_DELAYS])
def test_a_run_killed_at_a_random_moment_resumes_to_the_same_result(
    delay, toy, reference, tmp_path, run_train
):
    output_dir = tmp_path / "run"
    process = start_run_process(toy, output_dir)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
    resumed = run_train(argv(toy, output_dir))
    assert resumed.status == 0, resumed.err
    assert_same_final_state(output_dir, reference, EPOCHS)
    assert temporary_files(output_dir) == []  # a killed write's leftovers are removed on restart
