import json

import pytest
import torch
from clip import clip
from clip.model import build_model

from tests.tolerances import assert_close_in_norm, clip_size, fp32_rtol
from tests.trainers.helpers import (
    count_calls,
    fixed_batch,
    make_trainer,
    trained_parameter_names,
)


def test_zero_shot_clip_trains_nothing(toy, tmp_path):
    trainer = make_trainer("ZeroshotCLIP", toy, tmp_path)
    assert trainer.model.learnable is None
    assert trainer.get_model_names() == []
    assert trained_parameter_names(trainer) == set()


@pytest.mark.numerical
def test_zero_shot_logits_are_scaled_cosines_to_the_hand_crafted_prompts(toy, tmp_path):
    trainer = make_trainer("ZeroshotCLIP", toy, tmp_path)
    image, _ = fixed_batch(trainer)
    # an independently loaded CLIP on the literal Caltech101 prompts
    clip_model = build_model(
        torch.load(toy.tiny_clip_path, weights_only=True)["state_dict"]
    ).float()
    names = [name.replace("_", " ") for name in trainer.dm.dataset.classnames]
    with torch.no_grad():
        text_features = clip_model.encode_text(clip.tokenize([f"a photo of a {n}." for n in names]))
        text_features = text_features / text_features.norm(dim=-1, keepdim=True)
        image_features = clip_model.encode_image(image)
        image_features = image_features / image_features.norm(dim=-1, keepdim=True)
        expected = clip_model.logit_scale.exp() * image_features @ text_features.t()
        logits = trainer.model(image)
    assert logits.shape == (image.shape[0], trainer.dm.num_classes)
    assert_close_in_norm(logits, expected, fp32_rtol(*clip_size(clip_model)))


def test_zero_shot_test_computes_text_features_once_and_writes_the_result(toy, tmp_path):
    trainer = make_trainer("ZeroshotCLIP", toy, tmp_path)
    assert len(trainer.test_loader) > 1
    calls = count_calls(trainer.model, "compute_text_features")
    accuracy = trainer.test()
    assert len(calls) == 1
    with open(tmp_path / "result.json") as f:
        record = json.load(f)
    assert record["method"] == "ZeroshotCLIP"
    assert record["accuracy"] == accuracy
    assert record["total"] == len(trainer.dm.dataset.test)
