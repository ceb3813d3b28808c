"""Fixtures of the results-tool tests (the writers live in fake_run_writer.py)."""

import pytest
from fake_run_writer import RunWriter


@pytest.fixture
def runs(tmp_path):
    """A RunWriter rooted at a fresh ``output`` folder."""
    return RunWriter(tmp_path / "output")
