"""Fixtures for the built-in Dassl subset tests."""

import pytest


@pytest.fixture
def cpu_cfg(tmp_path):
    """Default config with CUDA off, no worker processes, quiet, output under tmp_path."""
    from dassl.config import get_cfg_default

    cfg = get_cfg_default()
    cfg.USE_CUDA = False
    cfg.VERBOSE = False
    cfg.DATALOADER.NUM_WORKERS = 0
    cfg.OUTPUT_DIR = str(tmp_path / "output")
    return cfg
