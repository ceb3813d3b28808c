"""Skipping the text padding (positions after the last [EOS]) keeps features, loss and gradients.

SEPModel's text encoder and the CoOp family's TextEncoder run CLIP's text blocks only up to the
last [EOS] of their prompts (``skip_padding``); the straightforward version runs all 77 positions.
"""

import clip.model
import pytest
import torch
import torch.nn as nn

from prompting.text_encoder import TextEncoder, tokenize, used_length
from tests.benchmarks.sep_fixtures import (
    assert_same_grads,
    build_sep,
    loss_and_grads,
    make_images,
)
from tests.tolerances import (
    BACKWARD_ROUNDINGS_FACTOR,
    assert_close_in_norm,
    fp32_gradient_rtol,
    fp32_rtol,
    fp64_rtol,
    prompted_clip_size,
    text_encoder_size,
)


@pytest.fixture
def images():
    return make_images()


def test_sep_text_blocks_stop_after_the_last_eos(tiny_clip):
    model = build_sep(tiny_clip)
    lengths = []
    hook = tiny_clip.transformer.resblocks[0].register_forward_pre_hook(
        lambda _, args: lengths.append(args[0].shape[0])
    )
    model.compute_text_features()
    hook.remove()
    n_ctx = model.prompt_learner.n_ctx
    expected = used_length(model.prompt_learner.tokenized_prompts, minimum=1 + 2 * n_ctx)
    assert model.text_encoder.skip_padding
    assert lengths == [expected] and expected < 77


@pytest.fixture
def float64_layer_norm(monkeypatch):
    """CLIP's LayerNorm computes in fp32 whatever its input; let it run in float64."""
    monkeypatch.setattr(clip.model.LayerNorm, "forward", nn.LayerNorm.forward)


@pytest.mark.numerical
def test_skipping_text_padding_keeps_sep_logits_loss_and_gradients(tiny_clip, images):
    """fp32: logits, loss and gradients within two fp32 orderings of SEP's forward and backward
    (the float64 test below shows that the difference is rounding)."""
    model = build_sep(tiny_clip)
    fast = loss_and_grads(model, images)
    model.text_encoder.skip_padding = False
    full = loss_and_grads(model, images)
    size = prompted_clip_size(tiny_clip)
    assert_close_in_norm(fast[0], full[0], fp32_rtol(*size), "logits")
    assert_close_in_norm(fast[1], full[1], fp32_rtol(*size), "loss")
    assert_same_grads(fast[2], full[2], fp32_gradient_rtol(*size))


@pytest.mark.numerical
def test_skipping_text_padding_is_exact_up_to_rounding_in_float64(
    tiny_clip, images, float64_layer_norm
):
    """In float64 everything agrees within two float64 orderings (forward and backward)."""
    model = build_sep(tiny_clip.double()).double()
    images = images.double()
    fast = loss_and_grads(model, images)
    model.text_encoder.skip_padding = False
    full = loss_and_grads(model, images)
    blocks, width = prompted_clip_size(tiny_clip)
    assert_close_in_norm(fast[0], full[0], fp64_rtol(blocks, width), "logits")
    assert_close_in_norm(fast[1], full[1], fp64_rtol(blocks, width), "loss")
    assert_same_grads(fast[2], full[2], fp64_rtol(BACKWARD_ROUNDINGS_FACTOR * blocks, width))


@pytest.mark.numerical
def test_skipping_text_padding_keeps_the_text_encoder_features_and_gradients(tiny_clip):
    """CoOp/KgCoOp/CoCoOp's TextEncoder: features and input gradients within two fp32
    orderings of the text encoder's forward and backward."""
    tokens = tokenize(["a photo of a dog.", "x", "a photo of a great white shark, a fish."])
    with torch.no_grad():
        embeddings = tiny_clip.token_embedding(tokens)
    results = []
    for skip_padding in (True, False):
        inputs = embeddings.clone().requires_grad_(True)
        features = TextEncoder(tiny_clip, skip_padding=skip_padding)(inputs, tokens)
        features.square().sum().backward()
        results.append((features.detach(), inputs.grad))
    (fast, fast_grad), (full, full_grad) = results
    assert_close_in_norm(fast, full, fp32_rtol(*text_encoder_size(tiny_clip)), "features")
    gradient_rtol = fp32_gradient_rtol(*text_encoder_size(tiny_clip))
    assert_close_in_norm(fast_grad, full_grad, gradient_rtol, "input gradient")
    assert fast_grad[:, used_length(tokens) :].abs().max() == 0  # padding never mattered
