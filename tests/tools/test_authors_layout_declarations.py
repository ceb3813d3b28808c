"""The authors'-checkpoint converter takes each method's layout from its trainer's
``AUTHORS_CHECKPOINT_LAYOUT`` and refuses a method that declares none."""

import pytest

from tests.tools.cli_checks import exit_status, one_error_line
from tools import convert_authors_checkpoint
from tools.checkpoint_conversion import ConversionError
from trainers import TRAINERS


@pytest.mark.parametrize("trainer", TRAINERS, ids=lambda trainer: trainer.__name__)
def test_every_declared_layout_is_one_the_converter_knows(trainer):
    declared = trainer.AUTHORS_CHECKPOINT_LAYOUT
    if declared is None:
        assert trainer.__name__ not in convert_authors_checkpoint.TRAINERS
    else:
        assert declared in convert_authors_checkpoint.LAYOUTS
        layout = convert_authors_checkpoint.layout_of(trainer.__name__)
        assert layout is convert_authors_checkpoint.LAYOUTS[declared]


def test_a_trainer_without_a_layout_is_refused_naming_the_declaration():
    undeclared = [t.__name__ for t in TRAINERS if t.AUTHORS_CHECKPOINT_LAYOUT is None]
    assert undeclared  # CoOp and others have no authors' checkpoint converter
    with pytest.raises(ConversionError, match="AUTHORS_CHECKPOINT_LAYOUT"):
        convert_authors_checkpoint.convert_state_dict({}, undeclared[0])


def test_the_cli_refuses_a_trainer_without_a_layout_in_one_line(tmp_path, capsys):
    undeclared = next(t.__name__ for t in TRAINERS if t.AUTHORS_CHECKPOINT_LAYOUT is None)
    argv = ["--trainer", undeclared, "--src", str(tmp_path / "x"), "--out", str(tmp_path / "o")]
    assert exit_status(convert_authors_checkpoint.main, argv) != 0
    line = one_error_line(capsys)
    assert undeclared in line and "IVLP" in line
    assert not (tmp_path / "o").exists()
