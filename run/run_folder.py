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

from .atomic_files import TEMPORARY_MARK, is_temporary_name_of, write_json_atomic
from .checkpoints import BEST_MODEL_FILE, EPOCH_MODEL_PREFIX
from .result_file import RESULT_FILE, run_settings
from .resume_checkpoints import CHECKPOINT_POINTER, RESUME_ONLY_LIST
from .user_errors import ConfigError, UserError

LOCK_FILE = ".run.lock"
RUN_OPTIONS_FILE = "run_options.json"
# The files a run writes atomically: in the output folder, and in each model folder.
OUTPUT_FOLDER_FILES = (RESULT_FILE, RUN_OPTIONS_FILE)
MODEL_FOLDER_FILES = (CHECKPOINT_POINTER, BEST_MODEL_FILE, RESUME_ONLY_LIST)
EPOCH_MODEL_FILE = re.compile(re.escape(EPOCH_MODEL_PREFIX) + r"\d+")
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


def _run_writes(name, in_model_folder):
    if in_model_folder:
        return name in MODEL_FOLDER_FILES or EPOCH_MODEL_FILE.fullmatch(name) is not None
    return name in OUTPUT_FOLDER_FILES


def remove_temporary_files(output_dir, model_names):
    """Delete the temporary files of this project's writes that a kill left in ``output_dir``
    and its model folders (the lock says no one else writes there now); returns their paths.

    Only the exact temporary names of the files a run writes there (``result.json.tmp.<pid>``,
    ``<model>/model.pth.tar-3.tmp.<pid>``, ...) are removed: a file of the user's that merely
    looks temporary, or anything in another folder, stays.
    """
    folders = [(output_dir, False)]
    folders += [(os.path.join(output_dir, name), True) for name in model_names]
    removed = []
    for folder, in_model_folder in folders:
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            target = name.rpartition(TEMPORARY_MARK)[0]
            if (
                is_temporary_name_of(name, target)
                and _run_writes(target, in_model_folder)
                and os.path.isfile(path)
                and not os.path.islink(path)
            ):
                os.remove(path)
                removed.append(path)
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
    write_json_atomic(path, options, indent=1, sort_keys=True)


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
