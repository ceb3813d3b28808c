"""DATASET.PROMPT_TEMPLATE: a user's dataset names its hand-crafted prompt; a template without
exactly one place for the class name is refused."""

import pytest
import torch

from launch.prediction import load_predictor
from prompting.clip_loading import load_clip_to_cpu
from prompting.templates import check_prompt_template, hand_crafted_prompts
from prompting.text_encoder import encode_prompts_normalized
from run.user_errors import ConfigError


def test_given_template_replaces_the_table_and_the_generic_one():
    names = ["golden_retriever", "tabby cat"]
    assert hand_crafted_prompts("ImageFolder", names) == [
        "a photo of a golden retriever.",
        "a photo of a tabby cat.",
    ]
    assert hand_crafted_prompts("EuroSAT", names, "coop", "a drawing of a {}.") == [
        "a drawing of a golden retriever.",
        "a drawing of a tabby cat.",
    ]


@pytest.mark.parametrize("template", ["a photo", "a {} and a {}", "a {0} photo"])
def test_template_without_one_class_place_is_refused(template):
    with pytest.raises(ConfigError, match='DATASET.PROMPT_TEMPLATE .* as one "{}"'):
        check_prompt_template(template)


def test_zero_shot_clip_uses_the_configured_template(tiny_clip_path):
    predictor = load_predictor(
        "",
        opts=[
            "MODEL.BACKBONE.NAME",
            tiny_clip_path,
            "INPUT.SIZE",
            "(32, 32)",
            "TRAINER.ZSCLIP.PREC",
            "fp32",
            "DATASET.PROMPT_TEMPLATE",
            "a drawing of a {}.",
        ],
    )
    model = predictor.model_for(["red circle", "blue ring"])
    expected = encode_prompts_normalized(
        load_clip_to_cpu(tiny_clip_path).float(),
        ["a drawing of a red circle.", "a drawing of a blue ring."],
    )
    torch.testing.assert_close(model.compute_text_features(), expected)
