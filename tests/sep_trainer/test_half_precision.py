"""The family's default precision: CLIP converted to fp16 by clip.build_model (as on a GPU)."""

import pytest
import torch
from clip.model import CLIP, build_model

from prompting.prompt_learner import ContextPromptLearner
from prompting.prompted_clip import total_loss
from prompting.text_encoder import TextEncoder
from tests.sep_trainer.test_sep_model import (
    CLASSNAMES,
    DEEP_CLIP,
    LABELS,
    independent_outputs,
    logits_and_loss,
    sep_cfg,
)
from tests.sep_trainer.test_sep_model import build_model as build_sep_model
from trainers.sep import sep_model


def half_clip(tiny_clip):
    return build_model(tiny_clip.state_dict())  # fp16 weights, fp32 LayerNorms and embeddings


def test_text_encoder_runs_on_an_fp16_clip(tiny_clip):
    clip16 = half_clip(tiny_clip)
    learner = ContextPromptLearner(CLASSNAMES, clip16, n_ctx=4)
    features = TextEncoder(clip16)(learner(), learner.tokenized_prompts)
    assert features.dtype == torch.float16
    assert features.shape == (len(CLASSNAMES), clip16.text_projection.shape[1])
    assert torch.isfinite(features).all()


def test_sep_loss_on_an_fp16_clip_is_close_to_fp32(tiny_clip):
    images = torch.randn(5, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    model32 = sep_model(tiny_clip, CLASSNAMES, "Caltech101", sep_cfg(FUSION_LAYERS=(1,)))
    torch.manual_seed(0)
    model16 = sep_model(half_clip(tiny_clip), CLASSNAMES, "Caltech101", sep_cfg(FUSION_LAYERS=(1,)))
    model16.learnable.load_state_dict(model32.learnable.state_dict())
    _, terms = model32.training_loss(images, LABELS)
    loss32 = total_loss(terms)
    _, terms = model16.training_loss(images, LABELS)
    loss16 = total_loss(terms)
    assert loss16.dtype == torch.float32  # loss terms are computed in fp32
    assert abs(loss16.item() - loss32.item()) < 0.02 * loss32.item()
    loss16.backward()
    assert model16.learnable.prompt_learner.ctx.grad is not None


@pytest.mark.parametrize("attention_axis", ["reference", "per_input"])
def test_sep_on_an_fp16_clip_matches_a_half_precision_run_of_the_oracle(attention_axis):
    """The fp16 path as a GPU runs it (CLIP converted to half by clip.build_model, the trained
    tensors fp32), executed with torch's CPU fp16 kernels: a trainer on a CPU resolves PREC fp16
    to fp32 (run/precision.py), so this is the only place the fp16 model is checked on a CPU.

    Sample selection only: its scores are fp32 in both. Batch selection scores in fp16 (the
    reference's quirk, tests/prompting/sep/test_token_selection.py), where token scores tie
    exactly and the order of tied tokens is left to topk / argsort.
    """
    torch.manual_seed(3)
    clip16 = build_model(CLIP(**DEEP_CLIP).state_dict())
    images = torch.randn(5, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    options = dict(SELECTION_MODE="sample", ATTENTION_AXIS=attention_axis)
    model = build_sep_model(clip16, **options)
    with torch.no_grad():
        logits, loss = logits_and_loss(model, images, LABELS)
        expected_logits, expected_loss = independent_outputs(
            model, clip16, images, LABELS, sep_cfg(**options)
        )
    assert logits.dtype == expected_logits.dtype == torch.float16
    # Both compute the same maths in fp16 in a different operation order; every feature is unit
    # norm, so they may differ by a few roundings of the logits: 4 ulps (2**-10 relative each) of
    # the largest logit. A different token, slot or head moves logits by tenths.
    ulp = 2.0 ** (torch.floor(torch.log2(expected_logits.float().abs().max())) - 10)
    torch.testing.assert_close(logits.float(), expected_logits.float(), rtol=0, atol=4 * ulp)
    # The loss is computed in fp32 from those logits and features.
    torch.testing.assert_close(loss, expected_loss, rtol=1e-3, atol=0)
