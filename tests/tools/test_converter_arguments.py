"""Both checkpoint converters answer a user mistake with one ``Error:`` line and write nothing."""

import os

import pytest
import torch

from tests.tools.cli_checks import exit_status, one_error_line
from tools import (
    checkpoint_conversion,
    convert_authors_checkpoint,
    convert_reference_sep_checkpoint,
)
from tools.convert_reference_sep_checkpoint import TFM_LISTS


def reference_sep_state(blocks=3):
    state = {
        "ctx": torch.zeros(2, 4),
        "ctx_visual": torch.zeros(2, 8),
        "VPT_fc.weight": torch.zeros(3, 8),
    }
    for reference_list in TFM_LISTS:
        for index in range(blocks):
            state[f"{reference_list}.{index}.scale1"] = torch.ones(1)
    return state


def save(path, state, epoch=5):
    torch.save({"state_dict": state, "epoch": epoch}, path)
    return str(path)


CONVERTERS = {
    "reference SEP": (convert_reference_sep_checkpoint.main, []),
    "authors": (convert_authors_checkpoint.main, ["--trainer", "IVLP"]),
}


@pytest.fixture(params=sorted(CONVERTERS))
def converter(request):
    main, extra = CONVERTERS[request.param]
    return lambda *argv: main([*extra, *map(str, argv)])


def test_a_missing_source_is_one_error_line(converter, tmp_path, capsys):
    assert converter("--src", tmp_path / "absent.pth", "--out", tmp_path / "run") == 2
    assert "absent.pth" in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_an_out_that_is_a_file_is_refused_before_reading(converter, tmp_path, capsys):
    source = save(tmp_path / "model.pth.tar-5", reference_sep_state())
    (tmp_path / "out").write_text("mine")
    assert converter("--src", source, "--out", tmp_path / "out") == 2
    assert "is a file" in one_error_line(capsys)
    assert (tmp_path / "out").read_text() == "mine"


def test_an_unknown_option_is_one_error_line(converter, capsys):
    assert exit_status(lambda argv: converter(*argv), ["--srcc", "x"]) == 2
    one_error_line(capsys)


@pytest.mark.parametrize(
    "state, problem",
    [
        ({"ctx": [1, 2]}, "is not a tensor"),
        ({"ctx": torch.tensor([1.0, float("nan")])}, "NaN"),
        ({}, "non-empty dict"),
    ],
)
def test_a_malformed_state_dict_is_named(converter, tmp_path, capsys, state, problem):
    source = save(tmp_path / "model.pth.tar-5", state)
    assert converter("--src", source, "--out", tmp_path / "run") == 2
    assert problem in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_a_negative_epoch_is_refused(converter, tmp_path, capsys):
    source = save(tmp_path / "model.pth.tar-5", reference_sep_state(), epoch=-1)
    assert converter("--src", source, "--out", tmp_path / "run") == 2
    assert '"epoch"' in one_error_line(capsys)


def interrupted(*args, **kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_while_reading_is_one_line(converter, tmp_path, capsys, monkeypatch):
    source = save(tmp_path / "model.pth.tar-5", reference_sep_state())
    monkeypatch.setattr(checkpoint_conversion, "load_checkpoint_file", interrupted)
    assert converter("--src", source, "--out", tmp_path / "run") == 130
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_ctrl_c_while_writing_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    source = save(tmp_path / "model.pth.tar-5", reference_sep_state())
    monkeypatch.setattr(torch, "save", interrupted)
    argv = ["--src", source, "--out", str(tmp_path / "run"), "--layers", "1"]
    assert convert_reference_sep_checkpoint.main(argv) == 130
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    written = [name for _, _, names in os.walk(tmp_path / "run") for name in names]
    assert written == []


@pytest.mark.parametrize(
    "layers, problem",
    [
        (["2", "1"], "increasing"),
        (["1", "1"], "distinct"),
        (["-1"], ">= 0"),
        (["0", "3"], "below 3"),
    ],
)
def test_sep_layers_that_do_not_exist_or_repeat_are_refused(tmp_path, capsys, layers, problem):
    source = save(tmp_path / "model.pth.tar-5", reference_sep_state(blocks=3))
    argv = ["--src", source, "--out", str(tmp_path / "run"), "--layers", *layers]
    assert convert_reference_sep_checkpoint.main(argv) == 2
    assert problem in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_sep_conversion_says_how_many_fusion_modules_it_kept(tmp_path, capsys):
    source = save(tmp_path / "model.pth.tar-5", reference_sep_state(blocks=3))
    argv = ["--src", source, "--out", str(tmp_path / "run"), "--layers", "1", "2"]
    assert convert_reference_sep_checkpoint.main(argv) == 0
    assert "Kept the first 2 of the 3 Token Fusion Modules" in capsys.readouterr().out
    converted = torch.load(
        tmp_path / "run" / "prompt_learner" / "model.pth.tar-5", weights_only=True
    )
    assert sorted(k for k in converted["state_dict"] if k.startswith("text_fusion")) == [
        "text_fusion.1.scale_1",
        "text_fusion.2.scale_1",
    ]
