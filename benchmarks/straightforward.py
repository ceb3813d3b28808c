"""SEP variants: the straightforward implementation of a step next to the one the trainer uses.

Each variant changes one thing about SEP's default model so that the benchmark can print, in
the same run, the ratio of the variant to the default. Most are deliberately naive versions
(what the reference implementation or a first implementation would do); "checkpoint_text" and
the precisions are options of the trainer itself.
"""

import contextlib
import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from prompting.backbones import tokenizer_of
from prompting.templates import hand_crafted_prompts
from prompting.text_encoder import tokenize
from trainers.sep import SEP

# the trainer these variants fit: they patch its model (its frozen text features g0, its fused
# attention, its text-length cut) and its config node; the benchmark runs them, its attention
# check and its step breakdown for this method only
VARIED_METHOD = SEP.__name__


def explicit_scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):
    """softmax(Q K^T / sqrt(d) + mask) V with the attention matrix materialised (and kept for
    backward), as attention was written before PyTorch's fused kernels."""
    if dropout_p or is_causal or enable_gqa:
        raise NotImplementedError("the benchmark's explicit attention covers CLIP's use only")
    scale = query.shape[-1] ** -0.5 if scale is None else scale
    weights = (query * scale) @ key.transpose(-2, -1)  # [B, heads, L, S]
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            weights = weights.masked_fill(~attn_mask, float("-inf"))
        else:
            weights = weights + attn_mask
    return weights.softmax(dim=-1) @ value


@contextlib.contextmanager
def explicit_attention():
    """Within this block nn.MultiheadAttention (need_weights=False) runs the explicit attention.

    ``F.multi_head_attention_forward`` looks ``scaled_dot_product_attention`` up in
    ``torch.nn.functional`` at call time, so replacing it there reroutes CLIP's blocks and the
    TFMs alike; the original is restored on exit.
    """
    fused = F.scaled_dot_product_attention
    F.scaled_dot_product_attention = explicit_scaled_dot_product_attention
    try:
        yield
    finally:
        F.scaled_dot_product_attention = fused


def recompute_frozen_text_with_second_clip(model, clip_model, classnames, dataset_name):
    """g0 recomputed at every text-feature computation by a second full CLIP, as the reference
    does (it loads ``clip_model_`` next to the prompted one); the trainer computes g0 once.

    The copy is registered on the model, so its memory counts against the variant.
    """
    second_clip = copy.deepcopy(clip_model)
    model.add_module("second_clip", second_clip)
    device = second_clip.token_embedding.weight.device
    prompts = hand_crafted_prompts(dataset_name, classnames)
    tokens = tokenize(prompts, device, tokenizer_of(second_clip))  # [n_cls, 77]
    compute_prompted = model.compute_text_features

    def compute_text_features():
        with torch.no_grad():
            frozen = second_clip.encode_text(tokens)  # [n_cls, embed_dim]
        model.text_features_fixed = frozen / frozen.norm(dim=-1, keepdim=True)
        return compute_prompted()

    model.compute_text_features = compute_text_features


def full_length_text(model, clip_model, classnames, dataset_name):
    """Every prompt runs through all of CLIP's 77 positions, padding after [EOS] included."""
    model.text_encoder.skip_padding = False


@dataclass(frozen=True)
class Variant:
    name: str
    about: str  # what differs from SEP's default, and which side is the straightforward one
    cfg_overrides: tuple = ()
    precision: str = None  # run at this precision instead of the run's --precision
    cache_text_in_eval: bool = True
    patch: object = None  # context-manager factory active while the variant runs
    adapt: object = None  # (model, clip_model, classnames, dataset_name) -> None

    def patched(self):
        return self.patch() if self.patch is not None else contextlib.nullcontext()


VARIANTS = {
    variant.name: variant
    for variant in (
        Variant(
            "per_batch_text",
            "(a) straightforward: evaluation recomputes the text features for every batch "
            "(default: once per evaluation)",
            cache_text_in_eval=False,
        ),
        Variant(
            "second_clip",
            "(b) straightforward: g0 recomputed every step by a second full CLIP, as the "
            "reference does (default: once, at build time)",
            adapt=recompute_frozen_text_with_second_clip,
        ),
        Variant("fp32", "(c) precision fp32", precision="fp32"),
        Variant("amp", "(c) precision amp: autocast fp16 on CUDA, bf16 on a CPU", precision="amp"),
        Variant("fp16", "(c) precision fp16: CLIP weights in half (CUDA only)", precision="fp16"),
        Variant(
            "explicit_attention",
            "(d) straightforward: explicit softmax(QK^T)V (default: PyTorch's fused "
            "scaled_dot_product_attention)",
            patch=explicit_attention,
        ),
        Variant(
            "checkpoint_text",
            "(e) option: text blocks recomputed in backward (CHECKPOINT_TEXT_BLOCKS True)",
            cfg_overrides=("TRAINER.SEP.CHECKPOINT_TEXT_BLOCKS", True),
        ),
        Variant(
            "full_text_length",
            "(f) straightforward: text encoder runs all 77 positions (default: stops after "
            "the last [EOS] of the class prompts)",
            adapt=full_length_text,
        ),
    )
}
