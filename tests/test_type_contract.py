"""A method that breaks the typed contract (the model protocol, the trainer hooks) fails the type
check CI runs (mypy with mypy.ini) with a message naming the method and the broken signature."""

import os
import shutil
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BROKEN_METHOD = """
from prompting.prompted_clip import PromptedCLIP
from trainers.prompt_trainer import PromptTrainer


class BrokenModel(PromptedCLIP):
    def compute_text_features(self, image_features):
        return image_features


class Broken(PromptTrainer):
    def build_custom_clip(self, classnames):
        return BrokenModel(None)
"""


def mypy(tree, *paths):
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", *paths],
        cwd=tree,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow  # one mypy run over the typed modules (about 20 s on 2 busy cores)
def test_a_method_breaking_the_contract_fails_the_type_check(tmp_path):
    pytest.importorskip("mypy")
    tree = tmp_path / "tree"
    for part in ("prompting", "trainers", "datasets", "run", "dassl_setup.py", "mypy.ini"):
        source = os.path.join(REPO_ROOT, part)
        copy = shutil.copytree if os.path.isdir(source) else shutil.copy
        copy(source, tree / part if os.path.isdir(source) else tree)
    (tree / "trainers" / "broken.py").write_text(BROKEN_METHOD)
    result = mypy(tree, "trainers/broken.py")
    assert result.returncode == 1, result.stdout
    assert 'Signature of "compute_text_features" incompatible with supertype' in result.stdout
    assert 'Signature of "build_custom_clip" incompatible with supertype' in result.stdout
