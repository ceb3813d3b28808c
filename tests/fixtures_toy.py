"""Session fixture: the toy Caltech101 plus tiny CLIP, written once (tools/make_toy_data.py)."""

import pytest

from tools.make_toy_data import make_toy_caltech101


@pytest.fixture(scope="session")
def toy_data_root(tmp_path_factory):
    """DATASET.ROOT of the toy Caltech101 (6 classes, 12 images each); tiny_clip.pt sits in it."""
    return make_toy_caltech101(str(tmp_path_factory.mktemp("toy_data"))).root
