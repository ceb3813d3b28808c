"""Atomic file writes, the one way the project writes a file a reader may see half-written.

The content goes to ``<path>.tmp.<pid>`` beside ``path``, which is then renamed onto ``path``
(``os.replace`` is atomic on one file system): a reader sees the old file or the new one, never
part of one. The temporary name is per process, so two processes never write one temporary file;
it is removed when the write fails. Only a kill -9 mid-write leaves one behind, under a name that
``is_temporary_name_of`` recognises exactly, so that clean-up removes nothing else.

This module imports nothing from the project, so every layer (run, datasets, tools, benchmarks)
can use it.
"""

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

TEMPORARY_MARK = ".tmp."


def temporary_path(path: str) -> str:
    """This process's temporary name for ``path``."""
    return f"{path}{TEMPORARY_MARK}{os.getpid()}"


def is_temporary_name_of(name: str, target_name: str) -> bool:
    """Whether ``name`` is the temporary name some process gave ``target_name`` (same folder)."""
    return re.fullmatch(re.escape(target_name + TEMPORARY_MARK) + r"\d+", name) is not None


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield the temporary path to write; on success it replaces ``path``, on failure it goes."""
    tmp_path = temporary_path(path)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except (OSError, RuntimeError) as error:
        # a write that fails at write() or close() carries no file name; name the target, so
        # that the error reports the path the user knows (not the temporary one, not another)
        if getattr(error, "filename", None) in (None, tmp_path):
            error.filename = path
        raise
    finally:
        if os.path.lexists(tmp_path):
            os.remove(tmp_path)


def write_atomic(path: str, write: Callable[[IO], Any], binary: bool = False) -> str:
    """``write(file)`` into ``path`` atomically; the file's permissions follow the umask."""
    with atomic_path(path) as tmp_path:
        with open(tmp_path, "wb" if binary else "w") as file:
            write(file)
    return path


def write_text_atomic(path: str, text: str) -> str:
    return write_atomic(path, lambda file: file.write(text))


def write_json_atomic(path: str, obj: Any, **dump_options: Any) -> str:
    return write_atomic(path, lambda file: json.dump(obj, file, **dump_options))
