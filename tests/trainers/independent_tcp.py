"""TCP written out plainly: the meta-net's class-aware tokens, CLIP's text encoder with the
context positions replaced by them before one block, and cross-entropy plus KgCoOp's term."""

import torch

from tests.trainers.independent_clip import (
    encode_image,
    encode_text,
    prompted_text_inputs,
    token_embeddings,
    unit,
)


def meta_net(features, linear1, linear2, n_ctx):
    """[n_cls, E] -> [n_cls, n_ctx, D_t]: Linear, QuickGELU, Linear."""
    hidden = features @ linear1.weight.t() + linear1.bias
    hidden = hidden * torch.sigmoid(1.702 * hidden)
    tokens = hidden @ linear2.weight.t() + linear2.bias
    return tokens.reshape(features.shape[0], n_ctx, -1)


def tcp_logits_and_terms(clip_model, images, labels, classnames, ctx, meta, block, weight):
    """(logits, cross-entropy, weighted consistency term) of TCP on Caltech101-style prompts
    ("X .. X <name>." learned, "a photo of a <name>." hand-crafted); ``meta`` holds the
    meta-net's two linear layers."""
    names = [name.replace("_", " ") for name in classnames]
    n_ctx = ctx.shape[0]
    frozen_tokens, frozen_embeddings = token_embeddings(
        clip_model, [f"a photo of a {name}." for name in names]
    )
    frozen = unit(encode_text(clip_model, frozen_embeddings, frozen_tokens))
    class_tokens = meta_net(frozen, meta["linear1"], meta["linear2"], n_ctx)
    tokens, embeddings = prompted_text_inputs(clip_model, " ".join(["X"] * n_ctx), names, ctx)
    text = torch.cat(
        [
            encode_text(
                clip_model,
                embeddings[c : c + 1],
                tokens[c : c + 1],
                {block: class_tokens[c]},
                n_ctx,
            )
            for c in range(len(names))
        ]
    )
    text = unit(text)
    logits = (
        clip_model.logit_scale.exp().float() * unit(encode_image(clip_model, images)) @ text.t()
    )
    ce = -torch.log_softmax(logits, dim=-1)[torch.arange(len(labels)), labels].mean()
    consistency = 1 - (text * frozen).sum(-1).mean()  # both unit vectors: cosine = dot
    return logits, ce, weight * consistency
