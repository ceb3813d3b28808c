"""Prediction test fixtures: the toy data's tiny CLIP; runs of every method on an image folder."""

import os
from types import SimpleNamespace

import pytest

from tests.run.own_runs import OwnRuns


@pytest.fixture(scope="session")
def toy(toy_data_root):
    return SimpleNamespace(
        root=toy_data_root, tiny_clip_path=os.path.join(toy_data_root, "tiny_clip.pt")
    )


@pytest.fixture(scope="session")
def own_runs(toy, tmp_path_factory):
    return OwnRuns(toy, tmp_path_factory.mktemp("own_runs"))
