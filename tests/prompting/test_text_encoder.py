import pytest
import torch

from prompting.text_encoder import TextEncoder, encode_prompts_normalized, tokenize
from tests.prompting.hooks import hooks_removed_after
from tests.tolerances import (
    assert_close_in_norm,
    fp32_gradient_rtol,
    fp32_rtol,
    text_encoder_size,
)
from tools.make_tiny_clip import build_tiny_clip

PROMPTS = ["a photo of a dog.", "a sea horse.", "x"]


@pytest.mark.numerical
def test_text_encoder_on_token_embeddings_equals_clip_encode_text(tiny_clip):
    tokens = tokenize(PROMPTS)
    assert tokens.shape == (3, 77)
    with torch.no_grad():
        features = TextEncoder(tiny_clip)(tiny_clip.token_embedding(tokens), tokens)
        expected = tiny_clip.encode_text(tokens)
    # the encoder skips the padding after the longest [EOS]: other shapes, other kernels
    assert_close_in_norm(features, expected, fp32_rtol(*text_encoder_size(tiny_clip)))


@pytest.mark.numerical
def test_encode_prompts_normalized_gives_unit_clip_features_in_any_batch_size(tiny_clip):
    features = encode_prompts_normalized(tiny_clip, PROMPTS)
    with torch.no_grad():
        expected = tiny_clip.encode_text(tokenize(PROMPTS))
    expected = expected / expected.norm(dim=-1, keepdim=True)
    rtol = fp32_rtol(*text_encoder_size(tiny_clip))  # other batch shapes, other kernels
    assert_close_in_norm(features, expected, rtol)
    assert_close_in_norm(
        encode_prompts_normalized(tiny_clip, PROMPTS, batch_size=2), features, rtol
    )
    assert not features.requires_grad


@pytest.mark.numerical
def test_checkpointed_blocks_give_the_same_features_and_gradients(tiny_clip):
    tokens = tokenize(PROMPTS)
    with torch.no_grad():
        embeddings = tiny_clip.token_embedding(tokens)
    results = []
    for checkpoint_blocks in (False, True):
        inputs = embeddings.clone().requires_grad_(True)
        features = TextEncoder(tiny_clip, checkpoint_blocks=checkpoint_blocks)(inputs, tokens)
        features.square().sum().backward()
        results.append((features.detach(), inputs.grad))
    (plain, plain_grad), (checkpointed, checkpointed_grad) = results
    # exact: checkpointing reruns the same forward; only the backward's accumulation order moves
    assert torch.equal(checkpointed, plain)
    gradient_rtol = fp32_gradient_rtol(*text_encoder_size(tiny_clip))
    assert_close_in_norm(checkpointed_grad, plain_grad, gradient_rtol)


def replace_context_hook(deep_prompt):
    def hook(block, args):
        x = args[0].clone()  # [L, n_prompts, D]
        x[1 : 1 + deep_prompt.shape[0]] = deep_prompt.unsqueeze(1)
        return (x,)

    return hook


@pytest.mark.numerical
def test_deep_prompts_replace_the_context_before_later_blocks_as_clip_with_hooks():
    clip_model = build_tiny_clip(transformer_layers=4)
    tokens = tokenize(PROMPTS)
    n_ctx, width = 2, clip_model.ln_final.weight.shape[0]
    generator = torch.Generator().manual_seed(0)
    deep_prompts = [torch.randn(n_ctx, width, generator=generator) for _ in range(2)]
    blocks = clip_model.transformer.resblocks
    handles = [
        blocks[k + 1].register_forward_pre_hook(replace_context_hook(deep))
        for k, deep in enumerate(deep_prompts)
    ]
    with torch.no_grad():
        with hooks_removed_after(handles):
            expected = clip_model.encode_text(tokens)
        encoder = TextEncoder(clip_model)  # skipping padding: [EOS] of "x" is at position 2
        features = encoder(clip_model.token_embedding(tokens), tokens, deep_prompts)
    assert_close_in_norm(features, expected, fp32_rtol(*text_encoder_size(clip_model)))
    with pytest.raises(ValueError, match="at most 3"):
        encoder(clip_model.token_embedding(tokens), tokens, deep_prompts * 2)
