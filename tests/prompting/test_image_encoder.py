"""The prompted ViT encoder against CLIP's own encode_image, with hooks as the oracle."""

import pytest
import torch
import torch.nn as nn

from prompting.image_encoder import PromptedImageEncoder
from tests.prompting.hooks import hooks_removed_after
from tests.tolerances import (
    assert_close_in_norm,
    assert_far_in_norm,
    fp32_gradient_rtol,
    fp32_rtol,
    image_encoder_size,
)
from tools.make_tiny_clip import build_tiny_clip

N_PROMPTS = 3
DEPTH = 4


def make_images(batch_size=2, seed=0):
    return torch.randn(batch_size, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def random_tokens(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def encode_image_with_hooks(clip_model, images, prompts, deep_prompts):
    """CLIP's own encode_image, ``prompts`` appended before ln_pre and the last tokens set to
    ``deep_prompts[k]`` before block ``k + 1``."""

    def append(ln_pre, args):
        x = args[0]  # [B, 1 + HW, D]
        return (torch.cat([x, prompts.expand(x.shape[0], -1, -1)], dim=1),)

    def replace_with(deep):
        def hook(block, args):
            x = args[0].clone()  # [1 + HW + m, B, D]
            x[-N_PROMPTS:] = deep.expand(x.shape[1], -1, -1).permute(1, 0, 2)
            return (x,)

        return hook

    visual = clip_model.visual
    with hooks_removed_after([visual.ln_pre.register_forward_pre_hook(append)]) as handles:
        for k, deep in enumerate(deep_prompts):
            block = visual.transformer.resblocks[k + 1]
            handles.append(block.register_forward_pre_hook(replace_with(deep)))
        return clip_model.encode_image(images)


@pytest.fixture
def deep_clip():
    return build_tiny_clip(vision_layers=DEPTH)


def test_without_prompts_it_is_clip_encode_image(tiny_clip):
    images = make_images()
    with torch.no_grad():  # exact: the same modules on the same shapes, one process
        assert torch.equal(PromptedImageEncoder(tiny_clip)(images), tiny_clip.encode_image(images))


@pytest.mark.numerical
@pytest.mark.parametrize("per_image", [False, True], ids=["shared", "per-image"])
def test_input_and_deep_prompts_match_clip_with_hooks(deep_clip, per_image):
    images = make_images()
    width = deep_clip.visual.conv1.out_channels
    shape = (len(images), N_PROMPTS, width) if per_image else (N_PROMPTS, width)
    prompts = random_tokens(*shape, seed=1)
    deep_prompts = [random_tokens(*shape, seed=2 + k) for k in range(2)]  # blocks 1 and 2 only
    with torch.no_grad():
        features = PromptedImageEncoder(deep_clip)(images, prompts, deep_prompts)
        expected = encode_image_with_hooks(deep_clip, images, prompts, deep_prompts)
        unprompted = deep_clip.encode_image(images)
    assert_close_in_norm(features, expected, fp32_rtol(*image_encoder_size(deep_clip)))
    assert_far_in_norm(features, unprompted, fp32_rtol(*image_encoder_size(deep_clip)))


def test_before_block_sees_the_sequence_after_deep_prompt_replacement(deep_clip):
    seen = {}

    class Recording(PromptedImageEncoder):
        def before_block(self, index, x):
            seen[index] = x[-N_PROMPTS:, 0].clone()
            return x

    width = deep_clip.visual.conv1.out_channels
    deep_prompts = [random_tokens(N_PROMPTS, width, seed=k) for k in range(DEPTH - 1)]
    with torch.no_grad():
        Recording(deep_clip)(make_images(), random_tokens(N_PROMPTS, width, seed=9), deep_prompts)
    assert sorted(seen) == list(range(DEPTH))
    for index in range(1, DEPTH):
        assert torch.equal(seen[index], deep_prompts[index - 1])  # exact: a copy


def test_per_call_prompts_from_a_coupling_receive_gradients_and_clip_none(deep_clip):
    """MaPLe's pattern: vision prompts computed per call from other learned tensors."""
    width = deep_clip.visual.conv1.out_channels
    source = nn.Parameter(random_tokens(DEPTH, N_PROMPTS, 16, seed=0))
    couplings = nn.ModuleList(nn.Linear(16, width) for _ in range(DEPTH))
    encoder = PromptedImageEncoder(deep_clip)
    vision = [coupling(tokens) for coupling, tokens in zip(couplings, source)]
    encoder(make_images(), vision[0], vision[1:]).square().sum().backward()
    assert all(source.grad[k].abs().sum() > 0 for k in range(DEPTH))
    assert all(coupling.weight.grad.abs().sum() > 0 for coupling in couplings)
    assert not any(p.requires_grad for p in encoder.visual.parameters())


@pytest.mark.numerical
def test_gradient_checkpointing_gives_the_same_features_and_gradients(deep_clip):
    width = deep_clip.visual.conv1.out_channels
    results = []
    for checkpointing in (False, True):
        prompts = random_tokens(N_PROMPTS, width, seed=1).requires_grad_(True)
        deep = [random_tokens(N_PROMPTS, width, seed=2).requires_grad_(True)]
        encoder = PromptedImageEncoder(deep_clip, gradient_checkpointing=checkpointing)
        features = encoder(make_images(), prompts, deep)
        features.square().sum().backward()
        results.append((features.detach(), prompts.grad, deep[0].grad))
    (features, *grads), (checkpointed_features, *checkpointed_grads) = results
    # exact: checkpointing reruns the same forward; only the backward's accumulation order moves
    assert torch.equal(checkpointed_features, features)
    for grad, checkpointed in zip(grads, checkpointed_grads):
        assert_close_in_norm(checkpointed, grad, fp32_gradient_rtol(*image_encoder_size(deep_clip)))


def test_deep_prompts_that_do_not_fit_raise(tiny_clip):
    width = tiny_clip.visual.conv1.out_channels
    prompts = random_tokens(N_PROMPTS, width, seed=0)
    encoder = PromptedImageEncoder(tiny_clip)
    with pytest.raises(ValueError, match="at most 1"):
        encoder(make_images(), prompts, [prompts, prompts])
    with pytest.raises(ValueError, match="cannot replace"):
        encoder(make_images(), prompts, [prompts[:2]])
    with pytest.raises(ValueError, match="cannot replace"):
        encoder(make_images(), None, [prompts])
