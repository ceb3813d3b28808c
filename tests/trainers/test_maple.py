"""MaPLe against its independent statement, its parameter count, and its trainer's runs."""

import pytest
import torch

from prompting.deep_prompt_model import DeepPromptCLIP, DeepTextPrompts
from run.user_errors import ConfigError
from tests.tolerances import assert_close_in_norm, clip_size, fp32_rtol
from tests.trainers import independent_maple as ref
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
)
from trainers.maple import CoupledPrompts


def build_maple(clip_model, n_ctx, depth, ctx_init="a photo of a", perturbed=True):
    torch.manual_seed(0)
    text = DeepTextPrompts(CLASSNAMES, clip_model, n_ctx, depth, ctx_init)
    learnable = CoupledPrompts(text, clip_model)
    if perturbed:
        perturb(learnable)
    return DeepPromptCLIP(clip_model, learnable, "MaPLe")


@pytest.mark.numerical
@pytest.mark.parametrize("n_ctx, depth", [(2, 1), (2, 2), (3, 3)])
def test_logits_and_loss_match_the_independent_statement(n_ctx, depth):
    clip_model = deeper_tiny_clip()
    model = build_maple(clip_model, n_ctx, depth)
    logits, terms = model.training_loss(images(), LABELS)
    coupling = model.learnable.coupling
    expected_logits, expected_loss = ref.maple_logits_and_loss(
        clip_model,
        images(),
        LABELS,
        CLASSNAMES,
        "a photo of a",
        [p.detach() for p in model.learnable.text.layers()],
        [layer.weight.detach() for layer in coupling],
        [layer.bias.detach() for layer in coupling],
    )
    assert_close_in_norm(logits, expected_logits, fp32_rtol(*clip_size(clip_model)))
    assert_close_in_norm(sum(terms.values()), expected_loss, fp32_rtol(*clip_size(clip_model)))


def test_the_image_loss_trains_the_text_prompts_through_the_coupling():
    clip_model = deeper_tiny_clip()
    model = build_maple(clip_model, 2, 2)
    image_only = model.image_features(images()).sum()
    image_only.backward()
    text = model.learnable.text
    assert text.prompt_learner.ctx.grad.abs().sum() > 0
    assert text.deep[0].grad.abs().sum() > 0


def test_deeper_coupling_layers_start_identical_and_the_input_layer_differs():
    model = build_maple(deeper_tiny_clip(), 2, 3, perturbed=False)
    first, *deeper = model.learnable.coupling
    for layer in deeper[1:]:
        assert torch.equal(layer.weight, deeper[0].weight)
        assert torch.equal(layer.bias, deeper[0].bias)
        assert layer.weight.data_ptr() != deeper[0].weight.data_ptr()  # copies, not shared
    assert not torch.equal(first.weight, deeper[0].weight)


def test_trained_parameters_follow_the_formula():
    model = build_maple(deeper_tiny_clip(), 2, 3)
    text_width, vision_width = 64, 128
    per_block = 2 * text_width + text_width * vision_width + vision_width
    assert trained_count(model) == 3 * per_block
    model.check_trained_parameters()


@pytest.mark.slow
@pytest.mark.parametrize(
    "config, expected",
    [
        ("vit_b16_c2_ep5_batch4_2ctx.yaml", 3_555_072),  # the paper's 3.55M
        ("vit_b16_c2_ep5_batch4_2ctx_cross_datasets.yaml", 1_185_024),
    ],
)
def test_published_configs_train_the_published_number_of_parameters_on_vit_b16(config, expected):
    count = vit_b16_trained_count("MaPLe", config)
    # depth * (2 tokens * 512 + Linear(512, 768) weight and bias)
    assert count == expected


@pytest.mark.parametrize("option, value", [("PROMPT_DEPTH", 3), ("PROMPT_DEPTH", 0)])
def test_depths_that_do_not_fit_are_config_errors(option, value, toy, tmp_path):
    with pytest.raises(ConfigError, match="TRAINER.MAPLE.PROMPT_DEPTH"):
        make_trainer("MaPLe", toy, tmp_path, f"TRAINER.MAPLE.{option}", value)


def test_trainer_optimises_exactly_the_prompts_and_couplings(toy, tmp_path):
    trainer = make_trainer(
        "MaPLe",
        toy,
        tmp_path,
    )
    assert optimised_parameters(trainer) == {id(p) for p in trainer.model.learnable.parameters()}


def test_base_checkpoint_evaluates_on_new_classes(toy, tmp_path):
    check_base_model_evaluates_on_new_classes(
        "MaPLe",
        toy,
        tmp_path,
        [
            "text.prompt_learner.ctx",
            "text.deep.0",
            "coupling.0.weight",
            "coupling.0.bias",
            "coupling.1.weight",
            "coupling.1.bias",
        ],
    )


def test_amp_matches_fp32_and_trains(toy, tmp_path):
    # bf16 (8-bit mantissa) rounds the coupling layers' outputs, which are far larger than
    # IVLP's 0.02-scale prompts: a few percent off fp32 (CUDA's fp16 autocast is far closer)
    check_amp_matches_fp32("MaPLe", toy, tmp_path)
