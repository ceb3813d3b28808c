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
    assert_close_to_scale,
    assert_same_grads,
    build_sep,
    loss_and_grads,
    make_images,
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


def test_skipping_text_padding_keeps_sep_logits_loss_and_gradients(tiny_clip, images):
    """fp32: logits and loss within 1e-6, gradients within 1e-4 of their largest entry (the
    float64 test below shows that the difference is rounding)."""
    model = build_sep(tiny_clip)
    fast = loss_and_grads(model, images)
    model.text_encoder.skip_padding = False
    full = loss_and_grads(model, images)
    torch.testing.assert_close(fast[0], full[0], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(fast[1], full[1], rtol=1e-6, atol=1e-6)
    assert_same_grads(fast[2], full[2], 1e-4)


def test_skipping_text_padding_is_exact_up_to_rounding_in_float64(
    tiny_clip, images, float64_layer_norm
):
    """In float64 everything agrees within 1e-10 (relative to the largest entry)."""
    model = build_sep(tiny_clip.double()).double()
    images = images.double()
    fast = loss_and_grads(model, images)
    model.text_encoder.skip_padding = False
    full = loss_and_grads(model, images)
    assert_close_to_scale(fast[0], full[0], 1e-10, "logits")
    assert_close_to_scale(fast[1], full[1], 1e-10, "loss")
    assert_same_grads(fast[2], full[2], 1e-10)


def test_skipping_text_padding_keeps_the_text_encoder_features_and_gradients(tiny_clip):
    """CoOp/KgCoOp/CoCoOp's TextEncoder: features within 1e-6, input gradients within 1e-4 of
    their largest entry."""
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
    torch.testing.assert_close(fast, full, rtol=1e-6, atol=1e-6)
    assert_close_to_scale(fast_grad, full_grad, 1e-4)
    assert fast_grad[:, used_length(tokens) :].abs().max() == 0  # padding never mattered
