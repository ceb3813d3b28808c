"""Representative tokens: text positions after the context, visual top tokens by activation."""

import numpy as np
import pytest
import torch

from prompting.sep import text_representative_tokens, visual_representative_tokens


def manual_indices(x, n_prompts, mode):
    """Top-m indices by mean squared activation, computed with numpy in float64."""
    scores = (x[:, :-n_prompts].double().numpy() ** 2).mean(axis=-1)  # [B, N]
    if mode == "batch":
        order = np.argsort(-scores.mean(axis=0), kind="stable")[:n_prompts]
        return np.tile(order, (x.shape[0], 1))
    return np.argsort(-scores, axis=1, kind="stable")[:, :n_prompts]


def test_text_representative_tokens_are_the_n_tokens_after_the_context():
    n_cls, length, width, n_ctx = 3, 16, 4, 5
    positions = torch.arange(length, dtype=torch.float32)
    x = positions.view(1, length, 1).expand(n_cls, length, width)  # x[c, p, :] = p
    tokens = text_representative_tokens(x, n_ctx)
    assert tokens.shape == (n_cls, n_ctx, width)
    assert tokens[0, :, 0].tolist() == list(range(n_ctx + 1, 2 * n_ctx + 1))


def test_text_representative_tokens_reject_too_short_sequences():
    with pytest.raises(ValueError, match="too short"):
        text_representative_tokens(torch.zeros(2, 10, 4), n_ctx=5)


@pytest.mark.parametrize("mode", ["batch", "sample"])
def test_visual_selection_picks_top_tokens_by_mean_squared_activation(mode):
    n_prompts = 3
    x = torch.randn(4, 1 + 16 + n_prompts, 8, generator=torch.Generator().manual_seed(0))
    tokens, indices = visual_representative_tokens(x, n_prompts, mode, return_indices=True)
    expected = manual_indices(x, n_prompts, mode)
    assert indices.tolist() == expected.tolist()  # same tokens, descending score order
    for b in range(x.shape[0]):
        assert torch.equal(tokens[b], x[b, expected[b]])  # exact: a gather copies


@pytest.mark.parametrize("mode", ["batch", "sample"])
def test_visual_selection_never_picks_prompt_tokens(mode):
    n_prompts, n_pretrained = 2, 9
    x = torch.randn(3, n_pretrained + n_prompts, 8)
    x[:, -n_prompts:] = 1e3  # far larger than any pre-trained token
    _, indices = visual_representative_tokens(x, n_prompts, mode, return_indices=True)
    assert indices.max() < n_pretrained


def test_batch_and_sample_modes_agree_when_all_images_are_identical():
    image = torch.randn(1, 1 + 9 + 2, 8)
    x = image.expand(4, -1, -1).contiguous()
    _, batch = visual_representative_tokens(x, 2, "batch", return_indices=True)
    _, sample = visual_representative_tokens(x, 2, "sample", return_indices=True)
    assert batch.tolist() == sample.tolist()


def test_batch_mode_shares_the_batch_averaged_choice_while_sample_mode_chooses_per_image():
    x = torch.zeros(2, 6 + 1, 4)  # 6 pre-trained tokens and 1 prompt token per image
    x[0, 2], x[0, 4] = 3.0, 2.0  # image 0 scores: token 2 -> 9, token 4 -> 4
    x[1, 4], x[1, 5] = 2.0, 2.5  # image 1 scores: token 4 -> 4, token 5 -> 6.25
    _, batch = visual_representative_tokens(x, 1, "batch", return_indices=True)
    _, sample = visual_representative_tokens(x, 1, "sample", return_indices=True)
    # averaged over the batch: token 2 -> 4.5, token 4 -> 4, token 5 -> 3.125
    assert batch.tolist() == [[2], [2]] == manual_indices(x, 1, "batch").tolist()
    assert sample.tolist() == [[2], [5]] == manual_indices(x, 1, "sample").tolist()


def test_fp16_batch_mode_scores_overflow_while_sample_mode_scores_in_fp32():
    width = 16
    x = torch.zeros(1, 5 + 1, width)
    x[0, 1, 0] = 300.0  # one channel: mean square 90000 / 16 = 5625, but 300**2 is inf in fp16
    x[0, 3] = 100.0  # every channel: mean square 10000, fine in fp16
    pick = {}
    for dtype in (torch.float32, torch.float16):
        for mode in ("batch", "sample"):
            _, indices = visual_representative_tokens(x.to(dtype), 1, mode, return_indices=True)
            pick[dtype, mode] = indices.item()
    assert pick[torch.float32, "batch"] == pick[torch.float32, "sample"] == 3
    assert pick[torch.float16, "sample"] == 3
    assert pick[torch.float16, "batch"] == 1  # the reference's fp16 quirk


def test_unknown_selection_mode_names_the_valid_modes():
    with pytest.raises(ValueError, match="batch.*sample"):
        visual_representative_tokens(torch.zeros(1, 5, 4), 1, mode="image")


def test_too_many_prompts_for_the_pretrained_tokens_raise():
    with pytest.raises(ValueError, match="Cannot select 3"):
        visual_representative_tokens(torch.zeros(1, 5, 4), 3)
