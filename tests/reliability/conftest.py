"""Reliability test fixtures: the toy data (shared or a private copy) and train.py in-process."""

import os
import shutil
from types import SimpleNamespace

import pytest

from tests.reliability.train_args import train_quietly

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASET_FOLDER = "caltech-101"
IMAGE_FOLDER = "101_ObjectCategories"
SPLIT_FILE = "split_zhou_Caltech101.json"


def toy_paths(root):
    dataset_dir = os.path.join(root, DATASET_FOLDER)
    return SimpleNamespace(
        root=root,
        tiny_clip_path=os.path.join(root, "tiny_clip.pt"),
        dataset_dir=dataset_dir,
        image_dir=os.path.join(dataset_dir, IMAGE_FOLDER),
        split_path=os.path.join(dataset_dir, SPLIT_FILE),
    )


@pytest.fixture(scope="session")
def toy(toy_data_root):
    """The session's toy Caltech101 (read only: tests that break files use ``toy_copy``)."""
    return toy_paths(toy_data_root)


@pytest.fixture
def toy_copy(toy_data_root, tmp_path):
    """A private copy of the toy Caltech101, free to damage."""
    root = str(tmp_path / "data")
    shutil.copytree(toy_data_root, root, ignore=shutil.ignore_patterns("split_fewshot"))
    return toy_paths(root)


@pytest.fixture
def run_train(capsys):
    """``run_train(argv)`` runs train.py's command line in this process.

    Returns (exit status, stdout, stderr); the stdout tee train.py installs is undone.
    """

    def run(argv):
        status, out = train_quietly(argv)
        captured = capsys.readouterr()
        return SimpleNamespace(status=status, out=out + captured.out, err=captured.err)

    return run
