"""What the converters of the authors' checkpoints share: checking their arguments, reading their
Dassl checkpoint (without letting it run code), and writing this repository's run folder."""

import os
import pickle

import torch

from run.atomic_files import atomic_path
from run.tool_cli import check_writable_folder, refuse
from run.untrusted_files import load_checkpoint_file
from run.user_errors import UserError


class ConversionError(UserError, ValueError):
    """A source checkpoint that does not fit the conversion asked for."""


def check_paths(src, out):
    """Refuse a missing source or an output that cannot be a folder, before any work."""
    refuse(not os.path.isfile(src), f'--src "{src}" is not a file: give the checkpoint to convert')
    refuse(
        os.path.exists(out) and not os.path.isdir(out),
        f'--out "{out}" is a file: give the folder to write the run into',
    )
    check_writable_folder("--out", out)


def read_checkpoint(path):
    """``(state_dict, epoch)`` of a checkpoint saved by Dassl's ``save_model``."""
    try:
        checkpoint = load_checkpoint_file(path)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConversionError(f'"{path}" cannot be read as a checkpoint ({reason})') from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ConversionError(f'"{path}" is not a Dassl checkpoint (no "state_dict" entry)')
    state_dict, epoch = checkpoint["state_dict"], checkpoint.get("epoch", 0)
    if not isinstance(state_dict, dict) or not state_dict:
        raise ConversionError(f'"{path}": its "state_dict" is not a non-empty dict of tensors')
    not_tensors = [key for key, value in state_dict.items() if not isinstance(value, torch.Tensor)]
    if not_tensors:
        raise ConversionError(f'"{path}": state_dict entry "{not_tensors[0]}" is not a tensor')
    non_finite = [
        key
        for key, value in state_dict.items()
        if value.is_floating_point() and not bool(torch.isfinite(value).all())
    ]
    if non_finite:
        raise ConversionError(f'"{path}": "{non_finite[0]}" holds NaN or infinite values')
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise ConversionError(f'"{path}": its "epoch" ({epoch!r}) is not a whole number >= 0')
    return state_dict, epoch


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
