"""What PromptTrainer checks when it builds a method's model: only the learnable module trains,
and only the errors meant for users become one-line user errors."""

import pytest
import torch.nn as nn

import trainers.coop
import trainers.sep
from prompting.context_prompt_model import ContextPromptCLIP
from prompting.prompted_clip import StrayTrainableTensors
from run.user_errors import UserError
from tests.trainers.helpers import make_trainer


def test_a_trainable_module_outside_learnable_is_refused_by_name(toy, tmp_path, monkeypatch):
    class WithStrayHead(ContextPromptCLIP):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.head = nn.Linear(2, 2)

    monkeypatch.setattr(trainers.coop, "ContextPromptCLIP", WithStrayHead)
    with pytest.raises(StrayTrainableTensors, match=r"\['head.bias', 'head.weight'\]"):
        make_trainer("CoOp", toy, tmp_path)


def test_a_value_error_inside_a_model_keeps_its_type(toy, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug, not a config mistake")

    monkeypatch.setattr(trainers.sep, "SEPModel", broken)
    with pytest.raises(ValueError, match="a bug") as raised:
        make_trainer("SEP", toy, tmp_path)
    assert not isinstance(raised.value, UserError)


def test_an_option_that_does_not_fit_clip_is_a_user_error(toy, tmp_path):
    with pytest.raises(UserError, match="FUSION_LAYERS.*depth 2"):
        make_trainer("SEP", toy, tmp_path, "TRAINER.SEP.FUSION_LAYERS", (1, 5))
