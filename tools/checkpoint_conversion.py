"""What the converters of the authors' checkpoints share: reading their Dassl checkpoint, writing
this repository's run folder, and the one ``Error:`` line a refused checkpoint gives."""

import functools
import os
import pickle
import sys

import torch

from run.atomic_files import atomic_path
from run.untrusted_files import load_checkpoint_file
from run.user_errors import UserError


class ConversionError(UserError, ValueError):
    """A source checkpoint that does not fit the conversion asked for."""


def read_checkpoint(path):
    """``(state_dict, epoch)`` of a checkpoint saved by Dassl's ``save_model``."""
    try:
        checkpoint = load_checkpoint_file(path)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise ConversionError(f'"{path}" cannot be read as a checkpoint ({error})') from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ConversionError(f'"{path}" is not a Dassl checkpoint (no "state_dict" entry)')
    return checkpoint["state_dict"], checkpoint.get("epoch", 0)


def write_run(out_dir, states, epoch):
    """Write each ``states`` entry (model folder name -> state_dict) as
    ``out_dir/<name>/model.pth.tar-<epoch>``, as a training run of this repository would.
    Refuses, before writing anything, when one of those files already exists."""
    paths = {name: os.path.join(out_dir, name, f"model.pth.tar-{epoch}") for name in states}
    existing = [path for path in paths.values() if os.path.lexists(path)]
    if existing:
        raise ConversionError(
            f'"{existing[0]}" already exists: give another --out (nothing was overwritten)'
        )
    for name, path in paths.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_path(path) as tmp_path:
            torch.save({"state_dict": states[name], "epoch": epoch}, tmp_path)
    return list(paths.values())


def reports_conversion_errors(main):
    """``main(argv)`` that prints a ConversionError as one ``Error:`` line and returns 2."""

    @functools.wraps(main)
    def wrapper(argv=None):
        try:
            return main(argv)
        except ConversionError as error:
            print(f"Error: {error}", file=sys.stderr)
            return 2

    return wrapper
