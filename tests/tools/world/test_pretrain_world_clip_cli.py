"""tools/pretrain_world_clip.py: every argument mistake is one Error: line before any pretraining,
and a CLIP that learnt nothing is never written. Pretraining itself is replaced by the tiny CLIP:
the real one takes minutes."""

import json
import os

import pytest
import torch

from tests.tools.cli_checks import exit_status, one_error_line
from tools import pretrain_world_clip
from tools.make_tiny_clip import build_tiny_clip
from tools.world import clip_cache

CHANCE = 100 / 48


@pytest.fixture
def fake_pretraining(monkeypatch):
    """Pretraining returns the tiny CLIP; ``accuracy[0]`` is the zero-shot top-1 it reports."""
    calls, accuracy = [], [90.0]

    def pretrain(config, progress=True):
        calls.append(config)
        return build_tiny_clip().half()

    monkeypatch.setattr(clip_cache.pretraining, "pretrain", pretrain)
    monkeypatch.setattr(
        clip_cache.pretraining, "zero_shot_accuracy", lambda model, per_class: (accuracy[0], CHANCE)
    )
    return calls, accuracy


@pytest.mark.parametrize(
    "argv, problem",
    [
        (["--steps", "0"], "warm-up steps"),
        (["--steps", "-5"], "warm-up steps"),
        (["--seed", "-1"], "--seed -1"),
        (["--seed", str(2**32)], "--seed 4294967296"),
        (["--steps", "ten"], "invalid int value"),
    ],
)
def test_impossible_values_are_refused_before_pretraining(
    fake_pretraining, capsys, tmp_path, argv, problem
):
    out = str(tmp_path / "clip.pt")
    assert exit_status(pretrain_world_clip.main, [*argv, "--out", out]) == 2
    assert problem in one_error_line(capsys)
    assert fake_pretraining[0] == [] and os.listdir(tmp_path) == []


def test_an_out_that_is_a_folder_fails_before_pretraining(fake_pretraining, capsys, tmp_path):
    assert pretrain_world_clip.main(["--out", str(tmp_path)]) == 2
    assert "is a folder" in one_error_line(capsys)
    assert fake_pretraining[0] == []


@pytest.mark.parametrize("existing", ["clip.pt", "clip.json"])
def test_an_existing_checkpoint_or_report_is_not_overwritten(
    fake_pretraining, capsys, tmp_path, existing
):
    (tmp_path / existing).write_text("mine")
    assert pretrain_world_clip.main(["--out", str(tmp_path / "clip.pt")]) == 2
    assert "already exists" in one_error_line(capsys)
    assert (tmp_path / existing).read_text() == "mine" and fake_pretraining[0] == []


def test_an_out_named_like_its_report_is_refused(fake_pretraining, capsys, tmp_path):
    assert pretrain_world_clip.main(["--out", str(tmp_path / "clip.json")]) == 2
    assert "<name>.json" in one_error_line(capsys)


def test_an_out_under_a_file_is_refused(fake_pretraining, capsys, tmp_path):
    (tmp_path / "file").write_text("x")
    assert pretrain_world_clip.main(["--out", str(tmp_path / "file" / "clip.pt")]) == 2
    assert "is a file, not a folder" in one_error_line(capsys)


def test_a_clip_no_better_than_chance_is_not_written(fake_pretraining, capsys, tmp_path):
    fake_pretraining[1][0] = 1.5 * CHANCE
    assert pretrain_world_clip.main(["--out", str(tmp_path / "clip.pt")]) == 2
    assert "learnt nothing usable" in one_error_line(capsys)
    assert os.listdir(tmp_path) == []


def test_a_trained_clip_is_written_with_its_report_and_nothing_else(
    fake_pretraining, capsys, tmp_path
):
    assert pretrain_world_clip.main(["--out", str(tmp_path / "clip.pt"), "--steps", "40"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["clip.json", "clip.pt"]
    report = json.loads((tmp_path / "clip.json").read_text())
    assert report["zero_shot_top1"] == 90.0 and report["config"]["steps"] == 40
    state = torch.load(tmp_path / "clip.pt", weights_only=True)
    assert (
        state["state_dict"]["visual.proj"].dtype == torch.float16
    )  # saved before the evaluation's .float()


def test_a_kill_while_writing_the_checkpoint_leaves_the_report_and_no_checkpoint(
    fake_pretraining, capsys, tmp_path, monkeypatch
):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    assert pretrain_world_clip.main(["--out", str(tmp_path / "clip.pt")]) == 130
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == ["clip.json"]  # the checkpoint marks a finished build
