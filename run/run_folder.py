"""A run folder belongs to one run: a lock while the run lives, and the options it started with.

The lock is ``fcntl.flock`` on ``.run.lock`` in the folder. The kernel releases it when the
process ends, however it ends (kill -9, OOM, a crash), so a killed run never leaves a folder
locked. The options a run started with are kept in ``run_options.json``; a run started again in
a folder that already holds checkpoints or a result must use the same options, since a run that
changes its settings midway gives a result that belongs to neither setting. Paths are left out:
moving the data or the output folder changes where a run reads and writes, not what it computes.
"""

import contextlib
import fcntl
import json
import os
import re

from .result_file import RESULT_FILE, run_settings
from .user_errors import ConfigError, UserError

LOCK_FILE = ".run.lock"
RUN_OPTIONS_FILE = "run_options.json"
# Temporary names of atomic writes: "<name>.tmp.<pid>", the subset's ".tmp-<random>-<name>".
TEMPORARY_NAME = re.compile(r"(.+\.tmp\.\d+|\.tmp-.+)$")
MODE_KEY = "(run mode)"


class RunFolderBusy(UserError, RuntimeError):
    """Another process holds the run folder."""


@contextlib.contextmanager
def run_folder_lock(output_dir):
    """Hold ``output_dir`` for this process; RunFolderBusy if another process holds it."""
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, LOCK_FILE)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode(errors="replace").strip() or "unknown"
            raise RunFolderBusy(
                f"Another run (process {holder}) is using {output_dir}. Wait for it to end, or "
                "give this run another --output-dir: two runs in one folder would mix their "
                "checkpoints, logs and results."
            ) from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(handle)  # releases the lock


def remove_temporary_files(output_dir):
    """Delete what writes killed midway left in ``output_dir`` (the lock says no one else writes
    there now); returns the paths removed."""
    removed = []
    for folder, _, names in os.walk(output_dir):
        for name in names:
            if TEMPORARY_NAME.match(name):
                os.remove(os.path.join(folder, name))
                removed.append(os.path.join(folder, name))
    return removed


def run_options(cfg, eval_only=False):
    """The settings that decide what a run computes: the config without paths, and its mode."""
    return {**run_settings(cfg), MODE_KEY: "evaluation" if eval_only else "training"}


def _holds_a_run(output_dir, model_names):
    if os.path.isfile(os.path.join(output_dir, RESULT_FILE)):
        return True
    return any(os.path.isdir(os.path.join(output_dir, name)) for name in model_names)


def check_same_options(output_dir, options, model_names):
    """Refuse to continue a run in ``output_dir`` with other options; record them otherwise."""
    path = os.path.join(output_dir, RUN_OPTIONS_FILE)
    if os.path.isfile(path) and _holds_a_run(output_dir, model_names):
        with open(path) as file:
            saved = json.load(file)
        changed = [
            key for key in sorted(set(saved) | set(options)) if saved.get(key) != options.get(key)
        ]
        if changed:
            shown = "; ".join(
                f"{key}: {saved.get(key, '(absent)')!r} -> {options.get(key, '(absent)')!r}"
                for key in changed[:5]
            )
            more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
            raise ConfigError(
                f"{output_dir} holds a run started with other options ({shown}{more}). To "
                f"continue it, rerun with its options (listed in {path}); for a new run, give "
                "another --output-dir (or delete that folder)."
            )
        return
    tmp_path = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp_path, "w") as file:
            json.dump(options, file, indent=1, sort_keys=True)
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def check_not_a_training_folder(output_dir, model_dir, model_names):
    """An evaluation must not write its result.json over a training run's."""
    same = model_dir and os.path.realpath(model_dir) == os.path.realpath(output_dir)
    trained = [name for name in model_names if os.path.isdir(os.path.join(output_dir, name))]
    if same or trained:
        raise ConfigError(
            f"--output-dir {output_dir} is the folder of a training run (it holds "
            f"{', '.join(name + '/' for name in model_names)}); the evaluation's result.json "
            "would replace the training result. Give the evaluation its own --output-dir "
            "(the scripts use test_new/ or <protocol>/test/)."
        )
