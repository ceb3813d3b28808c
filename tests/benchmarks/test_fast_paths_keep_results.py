"""Each fast path in SEP's step gives the results of its straightforward version.

Tolerances are stated per test. Two fast paths are covered by existing tests:
- amp vs fp32: tests/sep_trainer/test_sep_model.py::test_autocast_loss_matches_fp32
  (loss within 5%);
- checkpointed vs stored text blocks, encoder level:
  tests/prompting/sep/test_prompted_encoders.py::test_gradient_checkpointing_gives_the_same_outputs_and_gradients
  and tests/prompting/test_text_encoder.py::
  test_checkpointed_blocks_give_the_same_features_and_gradients.
"""

import pytest
import torch
import torch.nn as nn
from clip import clip

from benchmarks.straightforward import (
    explicit_attention,
    explicit_scaled_dot_product_attention,
    recompute_frozen_text_with_second_clip,
)
from prompting.prompted_clip import total_loss
from tests.benchmarks.sep_fixtures import (
    CLASSNAMES,
    LABELS,
    assert_same_grads,
    build_sep,
    loss_and_grads,
    make_images,
)
from tests.tolerances import (
    assert_close_in_norm,
    fp32_gradient_rtol,
    fp32_rtol,
    prompted_clip_size,
)
from tools.make_tiny_clip import build_tiny_clip


@pytest.fixture
def images():
    return make_images()


@pytest.mark.numerical
@pytest.mark.parametrize("causal", [False, True])
def test_explicit_attention_matches_the_fused_kernel(causal):
    """The benchmark's straightforward attention is the same function: outputs and input
    gradients within two fp32 orderings of one block of width 64 (an upper bound: no MLP)."""
    torch.manual_seed(0)
    attention = nn.MultiheadAttention(64, 2)
    mask = torch.full((7, 7), float("-inf")).triu(1) if causal else None
    results = []
    for patch in (False, True):
        x = torch.randn(7, 3, 64, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
        with explicit_attention() if patch else torch.enable_grad():
            out = attention(x, x, x, need_weights=False, attn_mask=mask)[0]
        out.square().sum().backward()
        results.append((out.detach(), x.grad))
    assert_close_in_norm(results[1][0], results[0][0], fp32_rtol(1, 64), "output")
    assert_close_in_norm(results[1][1], results[0][1], fp32_gradient_rtol(1, 64), "gradient")
    assert (
        torch.nn.functional.scaled_dot_product_attention
        is not explicit_scaled_dot_product_attention
    )


@pytest.mark.numerical
def test_explicit_attention_gives_sep_the_same_loss(tiny_clip, images):
    model = build_sep(tiny_clip)
    _, terms = model.training_loss(images, LABELS)
    fused_loss = total_loss(terms)
    with explicit_attention():
        _, terms = model.training_loss(images, LABELS)
        explicit_loss = total_loss(terms)
    rtol = fp32_rtol(*prompted_clip_size(tiny_clip))  # two fp32 orderings of SEP's forward
    assert_close_in_norm(explicit_loss.detach(), fused_loss.detach(), rtol)


def test_text_features_cached_for_an_evaluation_give_identical_logits(tiny_clip, images):
    model = build_sep(tiny_clip)
    with torch.no_grad():
        per_batch = [model(batch) for batch in images.split(2)]
        with model.cached_text_features():
            cached = [model(batch) for batch in images.split(2)]
    for expected, logits in zip(per_batch, cached):
        assert torch.equal(logits, expected)  # exact: the same text features, cached


@pytest.mark.numerical
def test_frozen_text_features_once_equal_a_second_clip_every_step(tiny_clip, images):
    """g0 computed once at build (the trainer) vs by a second, independently built CLIP per step
    (the reference), and against frozen CLIP on the literal ImageNet prompts."""
    model = build_sep(tiny_clip)
    once = loss_and_grads(model, images)
    buffer = model.text_features_fixed.clone()
    second_clip = build_tiny_clip()  # built again from the same seed: no shared tensor
    assert (
        second_clip.token_embedding.weight.data_ptr() != tiny_clip.token_embedding.weight.data_ptr()
    )
    with torch.no_grad():
        literal = second_clip.encode_text(clip.tokenize([f"a photo of a {n}." for n in CLASSNAMES]))
    torch.testing.assert_close(buffer, literal / literal.norm(dim=-1, keepdim=True))
    recompute_frozen_text_with_second_clip(model, second_clip, CLASSNAMES, "ImageNet")
    every_step = loss_and_grads(model, images)
    # exact: the same weights (same seed) through the same ops on the same shapes
    assert torch.equal(model.text_features_fixed, buffer)
    assert torch.equal(every_step[1], once[1])
    assert_same_grads(every_step[2], once[2], 0)


@pytest.mark.numerical
def test_checkpointed_text_blocks_keep_sep_loss_and_gradients(tiny_clip, images):
    """CHECKPOINT_TEXT_BLOCKS: identical loss (the same forward), gradients within two fp32
    orderings of SEP's backward (recomputation moves the accumulation order)."""
    stored = loss_and_grads(build_sep(tiny_clip), images)
    recomputed = loss_and_grads(build_sep(tiny_clip, CHECKPOINT_TEXT_BLOCKS=True), images)
    assert torch.equal(recomputed[1], stored[1])
    assert_same_grads(recomputed[2], stored[2], fp32_gradient_rtol(*prompted_clip_size(tiny_clip)))


def test_frozen_image_features_keep_no_autograd_graph(tiny_clip, images):
    """f0 runs the full ViT once per step; it must not keep activations for backward."""
    model = build_sep(tiny_clip)
    with torch.enable_grad():
        frozen = model.frozen_image_features(images)
    assert not frozen.requires_grad and frozen.grad_fn is None
