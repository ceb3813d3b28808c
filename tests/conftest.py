"""Session fixtures: the repository root on sys.path, the Dassl fallback, a tiny CLIP."""

import os
import sys

import pytest
import torch

# SEP_TEST_THREADS=<n>: run the session's torch ops on n threads (.ci/run reruns the numerical
# tests with 1 and 2, so that a tolerance is checked against more than one kernel choice).
if os.environ.get("SEP_TEST_THREADS"):
    torch.set_num_threads(int(os.environ["SEP_TEST_THREADS"]))

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import dassl_setup  # noqa: E402,F401  (must precede every `import dassl`)
import trainers  # noqa: E402,F401  (registers the trainers and their config nodes)
from tools.make_tiny_clip import build_tiny_clip, write_tiny_clip  # noqa: E402


@pytest.fixture(scope="session")
def tiny_clip_path(tmp_path_factory):
    """Path of a tiny random CLIP state_dict, written once per test session."""
    return write_tiny_clip(str(tmp_path_factory.mktemp("clip") / "tiny_clip.pt"))


@pytest.fixture
def tiny_clip():
    """A fresh tiny random CLIP in fp32 (each test may modify its copy)."""
    return build_tiny_clip()


from tests.fixtures_toy import toy_data_root  # noqa: E402,F401  (session: toy Caltech101 + CLIP)
