"""The family's default precision: CLIP converted to fp16 by clip.build_model (as on a GPU)."""

import copy

import pytest
import torch
from clip.model import CLIP, build_model

from prompting.prompt_learner import ContextPromptLearner
from prompting.prompted_clip import total_loss
from prompting.text_encoder import TextEncoder
from tests.sep_trainer import independent_sep as ref
from tests.sep_trainer.test_sep_model import (
    CLASSNAMES,
    DEEP_CLIP,
    LABELS,
    independent_outputs,
    logits_and_loss,
    sep_cfg,
)
from tests.sep_trainer.test_sep_model import build_model as build_sep_model
from tests.tolerances import assert_close_in_norm, clip_size, fp16_error
from trainers.sep import sep_model

pytestmark = pytest.mark.numerical  # run by .ci/run with 1 and 2 threads


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
    # fp16 weights and activations against fp32 ones: fp16's forward error (tests/tolerances.py)
    assert_close_in_norm(loss16, loss32, fp16_error(clip_size(tiny_clip)[0]), "fp16 loss")
    loss16.backward()
    assert model16.learnable.prompt_learner.ctx.grad is not None


def sample_selection_gaps(monkeypatch):
    """Record, at every token selection of the oracle, the smallest relative gap between the m-th
    and the (m+1)-th token score (sample mode: per image) -- the margin by which it chose."""
    gaps = []
    select = ref.representative_indices

    def recording(x, m, mode):
        scores = (x[:, :-m].float() ** 2).mean(dim=2).sort(dim=1, descending=True).values
        gaps.append(((scores[:, m - 1] - scores[:, m]) / scores[:, m - 1]).min().item())
        return select(x, m, mode)

    monkeypatch.setattr(ref, "representative_indices", recording)
    return gaps


def clip_with_separated_token_scores():
    """DEEP_CLIP converted to fp16, with one channel of ln_pre scaled up. Sample selection ranks
    tokens by their mean square; with ln_pre's default weights every token leaves LayerNorm with
    a mean square close to 1, the top tokens are separated by less than one fp16 rounding, and
    which one a fp16 run picks is decided by the CPU's kernels, not by the maths (a different
    token moves the logits by tenths). One large channel spreads the scores far apart."""
    torch.manual_seed(3)
    clip_model = CLIP(**DEEP_CLIP)
    with torch.no_grad():
        clip_model.visual.ln_pre.weight[0] = 16.0
    return build_model(clip_model.state_dict())  # fp16 weights, fp32 LayerNorms and embeddings


@pytest.mark.parametrize("attention_axis", ["reference", "per_input"])
def test_sep_on_an_fp16_clip_matches_a_half_precision_run_of_the_oracle(
    attention_axis, monkeypatch
):
    """The fp16 path as a GPU runs it (CLIP converted to half by clip.build_model, the trained
    tensors fp32), executed with torch's CPU fp16 kernels: a trainer on a CPU resolves PREC fp16
    to fp32 (run/precision.py), so this is the only place the fp16 model is checked on a CPU.

    Both the model and the oracle run in fp16 and are compared with the exact result of the same
    weights (the oracle in fp32 on the fp16-rounded weights), each within fp16's forward error
    for the blocks on a logit's path (tests/tolerances.py). Sample selection only: batch
    selection scores in fp16 (the reference's quirk, tests/prompting/sep/test_token_selection.py),
    where token scores tie exactly and the order of tied tokens is left to topk / argsort.
    """
    assert not torch._C._get_cpu_allow_fp16_reduced_precision_reduction()  # fp32 accumulation
    clip16 = clip_with_separated_token_scores()
    images = torch.randn(5, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    options = dict(SELECTION_MODE="sample", ATTENTION_AXIS=attention_axis)
    model = build_sep_model(clip16, **options)
    gaps = sample_selection_gaps(monkeypatch)
    with torch.no_grad():
        exact_logits, exact_loss = independent_outputs(
            copy.deepcopy(model).float(),
            copy.deepcopy(clip16).float(),
            images,
            LABELS,
            sep_cfg(**options),
        )
        exact_gaps = list(gaps)
        logits, loss = logits_and_loss(model, images, LABELS)
        oracle_logits, oracle_loss = independent_outputs(
            model, clip16, images, LABELS, sep_cfg(**options)
        )
    assert logits.dtype == oracle_logits.dtype == torch.float16
    blocks, _ = clip_size(clip16)
    # A token score is a mean square of a hidden state that has passed at most the vision blocks:
    # twice their relative error; two fp16 runs can only choose differently within twice that.
    vision_blocks = len(clip16.visual.transformer.resblocks)
    assert min(exact_gaps) > 2 * 2 * fp16_error(vision_blocks), "choose inputs without near-ties"
    rtol = fp16_error(blocks)
    assert_close_in_norm(logits.float(), exact_logits, rtol, "model fp16 logits")
    assert_close_in_norm(oracle_logits.float(), exact_logits, rtol, "oracle fp16 logits")
    # The loss is computed in fp32 from those logits and features: their relative error.
    assert_close_in_norm(loss, exact_loss, rtol, "model loss")
    assert_close_in_norm(oracle_loss, exact_loss, rtol, "oracle loss")
