"""The session's toy Caltech101 as the trainer tests use it: its root and its tiny CLIP file."""

import os
from types import SimpleNamespace

import pytest


@pytest.fixture(scope="session")
def toy(toy_data_root):
    return SimpleNamespace(
        root=toy_data_root, tiny_clip_path=os.path.join(toy_data_root, "tiny_clip.pt")
    )
