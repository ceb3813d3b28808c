"""The README's "Your own data" section, run as written with the world CLIP: the answers on new
images of classes mostly never trained on are far above chance."""

import os

import pytest

from tests.scripts.own_data_readme import check_outcome, run_readme
from tools.world.clip_cache import world_clip_path


@pytest.mark.slow
def test_readme_own_data_commands_with_the_world_clip(tmp_path):
    world_clip_path()  # the quick start's demo leaves it there (the shipped CLIP, expanded)
    workdir = tmp_path / "user"
    os.makedirs(workdir)
    completed = run_readme(workdir, os.path.expanduser("~"), timeout=7200)
    accuracy = check_outcome(workdir, completed)
    # chance is 1/16; P(at least 4 of 16 right by chance) is about 2%
    assert accuracy >= 4 / 16, accuracy
