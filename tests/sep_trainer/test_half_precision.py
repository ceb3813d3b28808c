"""The family's default precision: CLIP converted to fp16 by clip.build_model (as on a GPU)."""

import torch
from clip.model import build_model

from prompting.prompt_learner import ContextPromptLearner
from prompting.prompted_clip import total_loss
from prompting.text_encoder import TextEncoder
from tests.sep_trainer.test_sep_model import CLASSNAMES, LABELS, sep_cfg
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
