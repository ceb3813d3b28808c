"""Small filesystem, randomness and string helpers."""

import json
import os
import random
import warnings
from difflib import SequenceMatcher

import numpy as np
import PIL
import torch
from PIL import Image

__all__ = [
    "mkdir_if_missing",
    "check_isfile",
    "read_json",
    "write_json",
    "atomic_write",
    "set_random_seed",
    "read_image",
    "collect_env_info",
    "listdir_nohidden",
    "get_most_similar_str_to_a_from_b",
    "check_availability",
    "tolist_if_not",
]


def mkdir_if_missing(dirname):
    if dirname:
        os.makedirs(dirname, exist_ok=True)


def check_isfile(fpath):
    """True if ``fpath`` is a file; warns (and returns False) otherwise."""
    if os.path.isfile(fpath):
        return True
    warnings.warn(f'No file found at "{fpath}"')
    return False


def read_json(fpath):
    with open(fpath) as f:
        return json.load(f)


def atomic_write(fpath, write_fn, binary=False):
    """Call ``write_fn(file_object)`` on a temp file next to ``fpath``, then rename it into place.

    A crash or exception mid-write leaves any previous ``fpath`` untouched and no partial file.
    The temporary file is ``<fpath>.tmp.<pid>``: one per process, and a name that a clean-up after
    a kill can recognise exactly. The file gets the permissions a plain ``open`` gives.
    """
    mkdir_if_missing(os.path.dirname(os.path.abspath(fpath)))
    tmp_path = f"{fpath}.tmp.{os.getpid()}"
    try:
        with open(tmp_path, "wb" if binary else "w") as f:
            write_fn(f)
        os.replace(tmp_path, fpath)
    except BaseException:
        if os.path.lexists(tmp_path):
            os.remove(tmp_path)
        raise


def write_json(obj, fpath):
    atomic_write(fpath, lambda f: json.dump(obj, f, indent=4, separators=(",", ": ")))


def set_random_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def read_image(path):
    """Open an image as RGB ``PIL.Image``; a missing file raises an error naming the path."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'Image not found: "{path}"')
    return Image.open(path).convert("RGB")


def collect_env_info():
    from torch.utils.collect_env import get_pretty_env_info

    return get_pretty_env_info() + f"\n        Pillow ({PIL.__version__})"


def listdir_nohidden(path, sort=False):
    items = [name for name in os.listdir(path) if not name.startswith(".")]
    return sorted(items) if sort else items


def get_most_similar_str_to_a_from_b(a, b):
    """The candidate in ``b`` with the highest similarity ratio to ``a`` (last one wins ties)."""
    best, best_ratio = None, 0.0
    for candidate in b:
        ratio = SequenceMatcher(None, a, candidate).ratio()
        if ratio >= best_ratio:
            best, best_ratio = candidate, ratio
    return best


def check_availability(requested, available):
    if requested not in available:
        guess = get_most_similar_str_to_a_from_b(requested, available)
        raise ValueError(
            f"The requested one is expected to belong to {list(available)}, "
            f"but got [{requested}] (do you mean [{guess}]?)"
        )


def tolist_if_not(x):
    return x if isinstance(x, list) else [x]
