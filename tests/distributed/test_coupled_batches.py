"""SEP's batch-coupled steps, given the whole batch by a gather, match the whole batch in one
process: the reference attention axis of a TFM and the batch-mode visual token selection."""

import pytest
import torch

from prompting.sep import TokenFusion
from prompting.sep.token_selection import visual_representative_tokens
from tests.tolerances import (
    assert_close_in_norm,
    assert_far_in_norm,
    fp32_gradient_rtol,
    fp32_rtol,
)

S, K, WIDTH = 6, 3, 128
FP32_RTOL = fp32_rtol(1, WIDTH)  # two fp32 orderings of one block of WIDTH channels


def inputs(seed=0):
    generator = torch.Generator().manual_seed(seed)
    prompt = torch.randn(S, K, WIDTH, generator=generator, requires_grad=True)
    representative = torch.randn(S, K, WIDTH, generator=generator, requires_grad=True)
    return prompt, representative


@pytest.mark.numerical
def test_reference_axis_share_with_the_whole_batch_as_keys_equals_the_whole_batch():
    torch.manual_seed(0)
    fusion = TokenFusion(WIDTH, attention_axis="reference")
    prompt, representative = inputs()
    whole = fusion(prompt, representative)
    halves = [
        fusion(prompt[rows], representative[rows], representative)
        for rows in (slice(0, 4), slice(4, S))
    ]
    assert_close_in_norm(torch.cat(halves), whole, FP32_RTOL)

    # gradients of the summed share outputs = those of the whole batch
    whole_grads = torch.autograd.grad(
        whole.pow(2).sum(), [prompt, representative, *fusion.parameters()]
    )
    share_grads = torch.autograd.grad(
        sum(half.pow(2).sum() for half in halves), [prompt, representative, *fusion.parameters()]
    )
    for share_grad, whole_grad in zip(share_grads, whole_grads):
        assert_close_in_norm(share_grad, whole_grad, fp32_gradient_rtol(1, WIDTH), "gradient")


@pytest.mark.numerical
def test_reference_axis_share_alone_differs_from_the_whole_batch():
    torch.manual_seed(0)
    fusion = TokenFusion(WIDTH, attention_axis="reference")
    prompt, representative = inputs()
    alone = fusion(prompt[:4], representative[:4])
    assert_far_in_norm(alone, fusion(prompt, representative)[:4], FP32_RTOL)


def test_per_input_axis_ignores_the_rest_of_the_batch():
    torch.manual_seed(0)
    fusion = TokenFusion(WIDTH, attention_axis="per_input")
    prompt, representative = inputs()
    torch.testing.assert_close(
        fusion(prompt[:4], representative[:4], representative), fusion(prompt, representative)[:4]
    )


def test_batch_selection_of_a_share_with_gathered_scores_picks_the_whole_batch_tokens():
    # 2 images per share, 1 + 4 pre-trained tokens + 1 prompt token, width 2
    x = torch.zeros(4, 6, 2)
    x[0:2, 1] = 1.0  # the first share alone would pick token 1 ...
    x[2:4, 3] = 3.0  # ... but over the whole batch token 3 scores highest
    first, second = x[:2], x[2:]

    def gather_batch(scores):  # the second share's scores, as a gather across processes adds them
        second_scores = second[:, :-1].pow(2).mean(dim=-1)
        return torch.cat([scores, second_scores])

    _, whole = visual_representative_tokens(x, 1, "batch", return_indices=True)
    _, gathered = visual_representative_tokens(
        first, 1, "batch", return_indices=True, gather_batch=gather_batch
    )
    _, alone = visual_representative_tokens(first, 1, "batch", return_indices=True)
    assert whole.tolist() == [[3]] * 4
    assert gathered.tolist() == [[3], [3]]
    assert alone.tolist() == [[1], [1]]
