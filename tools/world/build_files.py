"""What the built files of the world (CLIP checkpoint, datasets) depend on, and how they are
written: a digest of the code that makes them (atomic writes: ``run.atomic_files``)."""

import hashlib
import os

import torch

from prompting import text_encoder

WORLD_DIR = os.path.dirname(os.path.abspath(__file__))


def source_files():
    """The world package's modules and the text encoder pretraining runs through."""
    world_files = sorted(
        os.path.join(WORLD_DIR, name) for name in os.listdir(WORLD_DIR) if name.endswith(".py")
    )
    return world_files + [os.path.abspath(text_encoder.__file__)]


def source_digest(*extra):
    """16 hex digits over the source files, the torch version and ``extra`` strings."""
    digest = hashlib.sha256()
    for path in source_files():
        with open(path, "rb") as file:
            digest.update(os.path.basename(path).encode() + b"\0" + file.read() + b"\0")
    for text in (torch.__version__, *extra):
        digest.update(text.encode() + b"\0")
    return digest.hexdigest()[:16]
