"""Reading the pickled files a user hands in (checkpoints, few-shot caches) without running code.

A pickle names functions and classes that the reader calls to rebuild objects, so a crafted file
(a downloaded checkpoint, a dataset folder from a mirror) can run anything. Both readers here
accept only the types such files legitimately hold:

* checkpoints: ``torch.load(weights_only=True)`` plus an allow-list for what Dassl's checkpoints
  hold beyond tensors and plain data: upstream Dassl's warm-up scheduler state holds the wrapped
  torch scheduler object, and with it the optimizer (whose state is a ``defaultdict``, read
  back as a plain dict); ``val_result`` and scheduler values may be numpy scalars;
* few-shot caches and ImageNet's ``preprocessed.pkl``: dicts and lists of Dassl's ``Datum``.

A file that needs any other type is refused with one line naming the file and the type. A file
the user trusts can be read anyway by listing its path in the ``SEP_TRUSTED_FILES`` environment
variable (paths separated by ``os.pathsep``); it is then read with plain pickle.

Imports only torch, numpy and the project's error classes, so the engine bridge can use it.
"""

import inspect
import os
import pickle
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
import torch.optim.lr_scheduler as lr_scheduler

from .user_errors import UserError

TRUSTED_FILES_VARIABLE = "SEP_TRUSTED_FILES"
DATUM_CLASS = ("dassl.data.datasets.base_dataset", "Datum")


class UnsafeFileError(UserError, ValueError):
    """A pickled file that holds a type no file of its kind holds (it could run code)."""


def trusted_by_user(path: str) -> bool:
    """Whether ``path`` is listed in SEP_TRUSTED_FILES."""
    listed = os.environ.get(TRUSTED_FILES_VARIABLE, "").split(os.pathsep)
    return os.path.realpath(path) in {os.path.realpath(entry) for entry in listed if entry}


def refusal(path: str, type_name: str, what: str, remedy: str = "") -> UnsafeFileError:
    return UnsafeFileError(
        f'"{path}" holds an object of type {type_name}, which no {what} holds; reading it '
        f"could run code, so it is refused. {remedy}If you trust the file, add its path to "
        f"{TRUSTED_FILES_VARIABLE} (paths separated by {os.pathsep!r}) and run again."
    )


def _plain_dict(default_factory=None):
    """Stands in for ``collections.defaultdict``, which weights_only loading cannot fill."""
    return {}


def _classes_derived_from(module, base):
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, base)
    ]


def _checkpoint_globals() -> list:
    numpy_dtypes = _classes_derived_from(np.dtypes, np.dtype)
    scalar = np._core.multiarray.scalar
    return [
        *_classes_derived_from(lr_scheduler, lr_scheduler.LRScheduler),
        *_classes_derived_from(torch.optim, torch.optim.Optimizer),
        (_plain_dict, "collections.defaultdict"),
        dict,
        np.dtype,
        *numpy_dtypes,
        scalar,
        (scalar, "numpy.core.multiarray.scalar"),  # written with numpy 1.x
    ]


CHECKPOINT_GLOBALS = _checkpoint_globals()


def _allowed_names(entries: Iterable) -> set:
    names = set()
    for entry in entries:
        if isinstance(entry, tuple):
            names.add(entry[1])
        else:
            names.add(f"{entry.__module__}.{entry.__qualname__}")
    return names


def _unsafe_type_in_checkpoint(path: str) -> str | None:
    """The first type ``path`` needs beyond the allow-list, or None (the file is damaged)."""
    try:
        needed = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # a damaged archive fails anywhere in the reader
        return None
    allowed = _allowed_names(CHECKPOINT_GLOBALS)
    unsafe = [name for name in needed if name not in allowed]
    return unsafe[0] if unsafe else None


def load_checkpoint_file(path: str, map_location: Any = "cpu") -> Any:
    """``torch.load`` of a checkpoint with ``weights_only=True`` and the checkpoint allow-list.

    Raises UnsafeFileError when the file needs another type; a damaged file raises torch's
    own error (``pickle.UnpicklingError``, ``RuntimeError``, ``EOFError``) as before.
    """
    if trusted_by_user(path):
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(CHECKPOINT_GLOBALS):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        unsafe = _unsafe_type_in_checkpoint(path)
        if unsafe is None:
            raise
        raise refusal(path, unsafe, "checkpoint of this project or of Dassl") from None


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, path, allowed, what, remedy):
        super().__init__(file)
        self.path, self.allowed, self.what, self.remedy = path, allowed, what, remedy

    def find_class(self, module, name):
        if (module, name) in self.allowed:
            return super().find_class(module, name)
        raise refusal(self.path, f"{module}.{name}", self.what, self.remedy)


def load_pickle_file(path: str, allowed: set, what: str, remedy: str = "") -> Any:
    """Unpickle ``path`` accepting only the ``(module, name)`` classes in ``allowed`` (plus the
    built-in containers and scalars pickle rebuilds without naming a class)."""
    with open(path, "rb") as file:
        if trusted_by_user(path):
            return pickle.load(file)
        return _RestrictedUnpickler(file, path, allowed, what, remedy).load()


def load_datum_lists(path: str, what: str, remedy: str = "") -> Any:
    """A few-shot cache or ImageNet's preprocessed lists: dicts and lists of Dassl ``Datum``."""
    return load_pickle_file(path, {DATUM_CLASS}, what, remedy)
