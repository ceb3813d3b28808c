import json
import random

import numpy as np
import pytest
import torch
from dassl.utils import (
    check_availability,
    get_most_similar_str_to_a_from_b,
    listdir_nohidden,
    read_image,
    read_json,
    set_random_seed,
    write_json,
)
from subset_helpers import write_png


def test_write_json_round_trips_and_creates_parent_folders(tmp_path):
    path = tmp_path / "a" / "b" / "split.json"
    write_json({"train": [["x.jpg", 1, "cat"]]}, str(path))
    assert read_json(str(path)) == {"train": [["x.jpg", 1, "cat"]]}


def test_write_json_failure_keeps_old_file_and_leaves_no_partial_file(tmp_path):
    path = tmp_path / "split.json"
    write_json({"old": 1}, str(path))
    with pytest.raises(TypeError):
        write_json({"new": object()}, str(path))  # json cannot encode object() mid-write
    assert json.loads(path.read_text()) == {"old": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["split.json"]


def test_set_random_seed_makes_python_numpy_and_torch_repeatable():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    set_random_seed(3)
    first = draw()
    set_random_seed(3)
    assert draw() == first
    set_random_seed(4)
    assert draw() != first


def test_listdir_nohidden_skips_dot_files_and_sorts_on_request(tmp_path):
    for name in ("b", "a", ".hidden"):
        (tmp_path / name).mkdir()
    assert sorted(listdir_nohidden(str(tmp_path))) == ["a", "b"]
    assert listdir_nohidden(str(tmp_path), sort=True) == ["a", "b"]


def test_read_image_returns_rgb_and_names_a_missing_path(tmp_path):
    image = read_image(write_png(tmp_path / "x.png", size=(5, 3)))
    assert image.mode == "RGB" and image.size == (5, 3)
    with pytest.raises(FileNotFoundError, match="nope.png"):
        read_image(str(tmp_path / "nope.png"))


def test_check_availability_suggests_the_most_similar_name():
    assert (
        get_most_similar_str_to_a_from_b("OxfordPet", ["Caltech101", "OxfordPets"]) == "OxfordPets"
    )
    check_availability("Caltech101", ["Caltech101"])
    with pytest.raises(ValueError, match=r"do you mean \[OxfordPets\]"):
        check_availability("OxfordPet", ["Caltech101", "OxfordPets"])
