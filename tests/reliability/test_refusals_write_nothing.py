"""Refused runs: exit status 2, one "Error:" line naming the problem, and nothing written.

The run folder is a not-yet-existing subfolder of a parent folder the test made, so "nothing
written" means: the run folder was never created and the parent is still empty. Values that
are checked once the trainer is built (against the loaded CLIP, or by the trainer's config
check) are refused after train.py opened its log: there the run folder may hold that log, ending
with the error line, and the run's lock and option record, nothing else (README: the error is
also written to log.txt; a corrected run in the same folder then starts normally).
"""

import os

import pytest
import torch

from prompting.clip_loading import clip_state_file
from tests.reliability.train_args import toy_argv
from tools.make_tiny_clip import build_tiny_clip


def tiny_resnet_clip(path):
    resnet = build_tiny_clip(
        vision_layers=(1, 1, 1, 1), vision_width=64, vision_patch_size=None, transformer_layers=1
    )
    torch.save(clip_state_file(resnet), path)
    return path


# case -> (trainer, yacs options, fragments of the error line); LOGGED: cases refused at build
REFUSALS = {
    "fusion layer beyond depth": (
        "SEP",
        ("TRAINER.SEP.FUSION_LAYERS", "(1, 5)"),
        ["TRAINER.SEP.FUSION_LAYERS [1, 5]: [5] out of range", "depth 2"],
    ),
    "selection mode": (
        "SEP",
        ("TRAINER.SEP.SELECTION_MODE", "image"),
        ['TRAINER.SEP.SELECTION_MODE "image" is not one of', "'batch', 'sample'"],
    ),
    "attention axis": (
        "SEP",
        ("TRAINER.SEP.ATTENTION_AXIS", "per_slot"),
        ['TRAINER.SEP.ATTENTION_AXIS "per_slot" is not one of', "'reference', 'per_input'"],
    ),
    "template table": (
        "SEP",
        ("TRAINER.SEP.TEMPLATES", "clip"),
        ['TRAINER.SEP.TEMPLATES "clip" is not one of', "sep_reference"],
    ),
    "too many text context tokens": (
        "SEP",
        ("TRAINER.SEP.N_CTX_TEXT", 40),
        ["40 text context tokens do not fit CLIP's context length 77"],
    ),
    "too many visual prompts": (
        "SEP",
        ("TRAINER.SEP.N_CTX_VISION", 30),
        ["30 visual prompt tokens: need 1..17"],
    ),
    "ResNet by name": ("SEP", ("MODEL.BACKBONE.NAME", "RN50"), ['"RN50" is a ResNet']),
    "ResNet file": ("SEP", ("MODEL.BACKBONE.NAME", "RESNET_FILE"), ["SEP needs a ViT CLIP"]),
    "unknown backbone": (
        "CoOp",
        ("MODEL.BACKBONE.NAME", "ViT-B/61"),
        ['MODEL.BACKBONE.NAME "ViT-B/61" is neither a CLIP model name', '"ViT-B/16"?'],
    ),
    "input size": ("CoOp", ("INPUT.SIZE", "(224, 224)"), ['set INPUT.SIZE "(32, 32)"']),
    "value type": ("CoOp", ("OPTIM.MAX_EPOCH", "ten"), ["expected int, got str"]),
    "precision": ("CoOp", ("TRAINER.COOP.PREC", "fp8"), ['PREC "fp8" is not one of']),
}
REFUSED_BEFORE_THE_LOG = {"ResNet by name", "unknown backbone", "value type"}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_run_exits_2_with_one_error_line_and_writes_nothing(case, toy, tmp_path, run_train):
    trainer, options, fragments = REFUSALS[case]
    if "RESNET_FILE" in options:
        options = (options[0], tiny_resnet_clip(tmp_path / "tiny_resnet_clip.pt"))
    parent = tmp_path / "parent"
    parent.mkdir()
    run_dir = parent / "run"
    result = run_train(toy_argv(toy, run_dir, *options, trainer=trainer))
    assert result.status == 2
    error_lines = [line for line in result.err.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 1, result.err
    for fragment in fragments:
        assert fragment in error_lines[0]
    assert "Traceback" not in result.err
    if case in REFUSED_BEFORE_THE_LOG or not run_dir.exists():
        assert os.listdir(parent) == []
        return
    assert os.listdir(parent) == ["run"]
    # the log and the run's own bookkeeping only: no checkpoint, tensorboard or result file
    assert "log.txt" in os.listdir(run_dir)
    assert set(os.listdir(run_dir)) <= {"log.txt", ".run.lock", "run_options.json"}
    assert (run_dir / "log.txt").read_text().splitlines()[-1] == error_lines[0]
