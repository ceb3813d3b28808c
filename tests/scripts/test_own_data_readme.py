"""The README's "Your own data" section, run as written, with the tiny CLIP standing in for the
world CLIP (tests/world/test_own_data_readme_world.py runs it with the world CLIP itself)."""

import os
import shutil

import pytest

from tests.scripts.own_data_readme import check_outcome, run_readme


@pytest.mark.slow
def test_readme_own_data_commands_run_with_the_tiny_clip(toy_data_root, tmp_path):
    home = tmp_path / "home"
    cache = home / ".cache" / "sep-prompt-tuning"
    os.makedirs(cache)
    shutil.copy(os.path.join(toy_data_root, "tiny_clip.pt"), cache / "world_clip.pt")
    workdir = tmp_path / "user"
    os.makedirs(workdir)
    completed = run_readme(workdir, home, shots=2, timeout=1800)
    accuracy = check_outcome(workdir, completed, shots=2)
    assert 0 <= accuracy <= 1  # a random tiny CLIP: only the format is checked
