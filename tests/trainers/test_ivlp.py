"""IVLP against its independent statement, its parameter count, and its trainer's runs."""

import pytest
import torch
from clip import clip

from prompting.deep_prompt_model import DeepPromptCLIP, DeepTextPrompts, IndependentPrompts
from run.user_errors import ConfigError
from tests.tolerances import assert_close_in_norm, clip_size, fp32_rtol
from tests.trainers import independent_ivlp as ref
from tests.trainers.deep_prompt_helpers import (
    CLASSNAMES,
    LABELS,
    deeper_tiny_clip,
    images,
    perturb,
    trained_count,
    vit_b16_trained_count,
)
from tests.trainers.helpers import (
    check_amp_matches_fp32,
    check_base_model_evaluates_on_new_classes,
    make_trainer,
    optimised_parameters,
    trained_parameter_names,
)


def build_ivlp(clip_model, n_ctx_text, n_ctx_vision, depth_text, depth_vision, ctx_init):
    torch.manual_seed(0)
    text = DeepTextPrompts(CLASSNAMES, clip_model, n_ctx_text, depth_text, ctx_init)
    learnable = IndependentPrompts(text, clip_model, n_ctx_vision, depth_vision)
    perturb(learnable)
    return DeepPromptCLIP(clip_model, learnable, "IVLP")


@pytest.mark.numerical
@pytest.mark.parametrize(
    "n_ctx_text, n_ctx_vision, depth_text, depth_vision, ctx_init, phrase",
    [
        (2, 2, 2, 2, "a photo of a", "a photo of a"),  # the rest of the phrase stays as words
        (4, 3, 3, 1, "a photo of a", "a photo of a"),
        (3, 2, 1, 3, "", "X X X"),  # random context, visual prompts deeper than text ones
        (2, 0, 2, 0, "a_photo", "a photo"),  # text prompts only
    ],
)
def test_logits_and_loss_match_the_independent_statement(
    n_ctx_text, n_ctx_vision, depth_text, depth_vision, ctx_init, phrase
):
    clip_model = deeper_tiny_clip()
    model = build_ivlp(clip_model, n_ctx_text, n_ctx_vision, depth_text, depth_vision, ctx_init)
    logits, terms = model.training_loss(images(), LABELS)
    learnable = model.learnable
    expected_logits, expected_loss = ref.ivlp_logits_and_loss(
        clip_model,
        images(),
        LABELS,
        CLASSNAMES,
        phrase,
        [p.detach() for p in learnable.text.layers()],
        [p.detach() for p in learnable.visual_prompts()],
    )
    assert_close_in_norm(logits, expected_logits, fp32_rtol(*clip_size(clip_model)))
    assert_close_in_norm(sum(terms.values()), expected_loss, fp32_rtol(*clip_size(clip_model)))
    assert_close_in_norm(model(images()), expected_logits, fp32_rtol(*clip_size(clip_model)))


def test_context_from_a_phrase_learns_its_first_tokens_and_keeps_the_rest_as_words():
    clip_model = deeper_tiny_clip()
    model = build_ivlp(clip_model, 2, 2, 1, 1, "a photo of a")
    learner = model.learnable.text.prompt_learner
    tokens = learner.tokenized_prompts[0]
    words = clip.tokenize("a photo of a red circle.")[0]
    assert torch.equal(tokens, words)
    embedding = clip_model.token_embedding.weight
    torch.testing.assert_close(learner.token_suffix[0, :2], embedding[words[3:5]])  # "of a"


def test_trained_parameters_are_the_prompt_sets_only():
    model = build_ivlp(deeper_tiny_clip(), 2, 3, 3, 2, "a photo of a")
    assert sorted(model.learnable.state_dict()) == [
        "text.deep.0",
        "text.deep.1",
        "text.prompt_learner.ctx",
        "visual.0",
        "visual.1",
    ]
    text_width, vision_width = 64, 128
    assert trained_count(model) == 3 * 2 * text_width + 2 * 3 * vision_width
    model.check_trained_parameters()


@pytest.mark.slow
@pytest.mark.parametrize(
    "config, expected",
    [("vit_b16_c2_ep20_batch4_4+4ctx.yaml", 46_080), ("vit_b16_c2_ep5_batch4_2+2ctx.yaml", 30_720)],
)
def test_published_configs_train_the_published_number_of_parameters_on_vit_b16(config, expected):
    count = vit_b16_trained_count("IVLP", config)
    # depth * tokens * width per encoder: text 512 wide, vision 768 wide
    assert count == expected


@pytest.mark.parametrize(
    "option, value, key",
    [
        ("PROMPT_DEPTH_TEXT", 3, "TRAINER.IVLP.PROMPT_DEPTH_TEXT"),
        ("PROMPT_DEPTH_VISION", 3, "TRAINER.IVLP.PROMPT_DEPTH_VISION"),
        ("PROMPT_DEPTH_TEXT", 0, "TRAINER.IVLP.PROMPT_DEPTH_TEXT"),
        ("N_CTX_TEXT", 5, "TRAINER.IVLP.CTX_INIT"),
    ],
)
def test_options_that_do_not_fit_are_config_errors(option, value, key, toy, tmp_path):
    with pytest.raises(ConfigError, match=key):
        make_trainer("IVLP", toy, tmp_path, f"TRAINER.IVLP.{option}", value)


def test_trainer_optimises_exactly_the_prompts(toy, tmp_path):
    trainer = make_trainer(
        "IVLP",
        toy,
        tmp_path,
    )
    learned = {id(p) for p in trainer.model.learnable.parameters()}
    assert optimised_parameters(trainer) == learned
    assert all(name.startswith("learnable.") for name in trained_parameter_names(trainer))


def test_base_checkpoint_evaluates_on_new_classes(toy, tmp_path):
    check_base_model_evaluates_on_new_classes(
        "IVLP", toy, tmp_path, ["text.prompt_learner.ctx", "text.deep.0", "visual.0", "visual.1"]
    )


def test_amp_matches_fp32_and_trains(toy, tmp_path):
    check_amp_matches_fp32("IVLP", toy, tmp_path)
