"""Fixtures of the distributed tests: the session's toy Caltech101 and tiny CLIP."""

import pytest

from tests.reliability.conftest import toy_paths


@pytest.fixture(scope="session")
def toy(toy_data_root):
    return toy_paths(toy_data_root)
