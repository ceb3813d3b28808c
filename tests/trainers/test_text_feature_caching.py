"""Evaluation computes class text features once, unless they depend on the image (CoCoOp)."""

import pytest

import trainers
from tests.trainers.helpers import count_calls, make_trainer


@pytest.mark.parametrize("trainer_name", [trainer.__name__ for trainer in trainers.TRAINERS])
def test_text_features_are_computed_once_per_evaluation(trainer_name, toy, tmp_path):
    trainer = make_trainer(trainer_name, toy, tmp_path)
    if trainer.model.text_depends_on_image:
        pytest.skip("its text features change with the image (tested below)")
    assert len(trainer.test_loader) > 1
    calls = count_calls(trainer.model, "compute_text_features")
    trainer.test()
    assert len(calls) == 1


def test_cocoop_computes_text_features_for_every_test_batch(toy, tmp_path):
    trainer = make_trainer("CoCoOp", toy, tmp_path)
    calls = count_calls(trainer.model, "text_features_for_images")
    trainer.test()
    assert len(trainer.test_loader) > 1
    assert len(calls) == len(trainer.test_loader)
