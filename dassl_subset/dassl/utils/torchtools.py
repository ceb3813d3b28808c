"""Checkpoint save/load/resume and parameter helpers.

Checkpoints are written atomically and hold only plain data (tensors, numbers, strings, lists,
dicts), so they load with ``torch.load(weights_only=True)``, the default since torch 2.6.
"""

import os
import random
import shutil
import warnings
from collections import OrderedDict

import numpy as np
import torch

from .tools import atomic_write, mkdir_if_missing

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "resume_from_checkpoint",
    "get_rng_state",
    "set_rng_state",
    "count_num_param",
    "load_pretrained_weights",
]

CHECKPOINT_POINTER = "checkpoint"  # text file whose first line names the latest checkpoint
BEST_CHECKPOINT = "model-best.pth.tar"


def get_rng_state():
    """Python, numpy, torch (and CUDA) generator states as plain data."""
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    version, py_internal, py_gauss = random.getstate()
    state = {
        "python": [version, list(py_internal), py_gauss],
        "numpy": [np_name, np_keys.tolist(), np_pos, np_has_gauss, np_gauss],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state):
    version, py_internal, py_gauss = state["python"]
    random.setstate((version, tuple(py_internal), py_gauss))
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = state["numpy"]
    np.random.set_state(
        (np_name, np.asarray(np_keys, dtype=np.uint32), np_pos, np_has_gauss, np_gauss)
    )
    torch.set_rng_state(state["torch"].cpu())
    if (
        "cuda" in state
        and torch.cuda.is_available()
        and len(state["cuda"]) == torch.cuda.device_count()
    ):
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(state, save_dir, is_best=False, remove_module_from_keys=True, model_name=""):
    """Write ``state`` to ``save_dir/model.pth.tar-{epoch}`` (or ``model_name``).

    Also points ``save_dir/checkpoint`` at it, adds the RNG states under ``"rng_state"`` unless
    given, and copies it to ``model-best.pth.tar`` when ``is_best``. Every write is atomic.
    """
    mkdir_if_missing(save_dir)
    state = dict(state)
    if remove_module_from_keys:
        state["state_dict"] = OrderedDict(
            (key[len("module.") :] if key.startswith("module.") else key, value)
            for key, value in state["state_dict"].items()
        )
    state.setdefault("rng_state", get_rng_state())

    fpath = os.path.join(save_dir, model_name or f"model.pth.tar-{state['epoch']}")
    atomic_write(fpath, lambda f: torch.save(state, f), binary=True)
    print(f"Checkpoint saved to {fpath}")

    pointer_path = os.path.join(save_dir, CHECKPOINT_POINTER)
    atomic_write(pointer_path, lambda f: f.write(os.path.basename(fpath) + "\n"))

    if is_best:
        best_fpath = os.path.join(save_dir, BEST_CHECKPOINT)
        with open(fpath, "rb") as src:
            atomic_write(best_fpath, lambda dst: shutil.copyfileobj(src, dst), binary=True)
        print(f'Best checkpoint saved to "{best_fpath}"')


def load_checkpoint(fpath):
    """Load a checkpoint dict onto the CPU (or CUDA if available).

    Only with ``weights_only=True``: a file that holds other pickled objects could run code
    when read, and is refused (``pickle.UnpicklingError``). The project replaces this function
    with one that also reads upstream Dassl's checkpoints (see ``dassl_setup.py``).
    """
    if fpath is None:
        raise ValueError("File path is None")
    if not os.path.exists(fpath):
        raise FileNotFoundError(f'File is not found at "{fpath}"')
    map_location = None if torch.cuda.is_available() else "cpu"
    return torch.load(fpath, map_location=map_location, weights_only=True)


def resume_from_checkpoint(fdir, model, optimizer=None, scheduler=None):
    """Load the checkpoint named in ``fdir/checkpoint`` into the given objects; return its epoch.

    The RNG states saved with the checkpoint are restored too, so training continues as if
    it had never stopped.
    """
    with open(os.path.join(fdir, CHECKPOINT_POINTER)) as f:
        fpath = os.path.join(fdir, f.readline().strip())
    print(f'Loading checkpoint from "{fpath}"')
    checkpoint = load_checkpoint(fpath)

    model.load_state_dict(checkpoint["state_dict"])
    print("Loaded model weights")
    if optimizer is not None and "optimizer" in checkpoint:
        optimizer.load_state_dict(checkpoint["optimizer"])
        print("Loaded optimizer")
    if scheduler is not None and "scheduler" in checkpoint:
        scheduler.load_state_dict(checkpoint["scheduler"])
        print("Loaded scheduler")
    if "rng_state" in checkpoint:
        set_rng_state(checkpoint["rng_state"])

    start_epoch = checkpoint["epoch"]
    print(f"Previous epoch: {start_epoch}")
    return start_epoch


def count_num_param(model=None, params=None):
    if model is not None:
        return sum(p.numel() for p in model.parameters())
    if params is not None:
        return sum(p["params"].numel() if isinstance(p, dict) else p.numel() for p in params)
    raise ValueError("model and params must provide at least one.")


def load_pretrained_weights(model, weight_path):
    """Copy the tensors whose name (minus ``module.``) and shape match into ``model``."""
    checkpoint = load_checkpoint(weight_path)
    state_dict = checkpoint.get("state_dict", checkpoint)
    model_dict = model.state_dict()
    matched, discarded = [], []
    for key, value in state_dict.items():
        if key.startswith("module."):
            key = key[len("module.") :]
        if key in model_dict and model_dict[key].size() == value.size():
            model_dict[key] = value
            matched.append(key)
        else:
            discarded.append(key)
    model.load_state_dict(model_dict)

    if not matched:
        warnings.warn(f"Cannot load {weight_path} (check the key names manually)")
        return
    print(f"Successfully loaded pretrained weights from {weight_path}")
    if discarded:
        print(f"Layers discarded due to unmatched keys or size: {discarded}")
