import json

import torch

from prompting.clip_loading import load_clip_to_cpu
from prompting.prompted_clip import normalize
from prompting.templates import hand_crafted_prompts
from prompting.text_encoder import encode_prompts_normalized
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


def test_zero_shot_logits_are_scaled_cosines_to_the_hand_crafted_prompts(toy, tmp_path):
    trainer = make_trainer("ZeroshotCLIP", toy, tmp_path)
    image, _ = fixed_batch(trainer)
    clip_model = load_clip_to_cpu(toy.tiny_clip_path).float()
    prompts = hand_crafted_prompts("Caltech101", trainer.dm.dataset.classnames)
    with torch.no_grad():
        text_features = encode_prompts_normalized(clip_model, prompts)
        image_features = normalize(clip_model.encode_image(image))
        expected = clip_model.logit_scale.exp() * image_features @ text_features.t()
        logits = trainer.model(image)
    assert logits.shape == (image.shape[0], trainer.dm.num_classes)
    assert torch.allclose(logits, expected, atol=1e-4)


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
