"""ProGrad written out plainly: CoOp's logits, zero-shot CLIP's logits, the two losses, and the
one SGD step along the projected gradient (docs/methods/prograd.md)."""

import math

import torch

from tests.trainers.independent_clip import (
    encode_image,
    encode_text,
    prompted_text_inputs,
    token_embeddings,
    unit,
)


def prograd_logits_and_losses(clip_model, images, labels, classnames, phrase, ctx, zs_prompts, T):
    """(student logits, zero-shot logits, ce, kl) with ``ctx`` [n_ctx, Dt] at positions
    1..n_ctx of "<phrase> <name>." and the zero-shot prompts ``zs_prompts`` as plain text."""
    scale = clip_model.logit_scale.exp().float()
    image = unit(encode_image(clip_model, images))
    tokens, embeddings = prompted_text_inputs(clip_model, phrase, classnames, ctx)
    text = unit(encode_text(clip_model, embeddings, tokens, n_ctx=ctx.shape[0]))
    zs_tokens, zs_embeddings = token_embeddings(clip_model, zs_prompts)
    zero_shot_text = unit(encode_text(clip_model, zs_embeddings, zs_tokens))
    logits = scale * image @ text.t()
    zero_shot = scale * image @ zero_shot_text.t()
    ce = 0.0
    kl = 0.0
    for row, teacher_row, label in zip(logits, zero_shot, labels.tolist()):
        ce = ce - torch.log_softmax(row, dim=0)[label]
        teacher = torch.softmax(teacher_row / T, dim=0)
        kl = kl - (teacher * torch.log_softmax(row / T, dim=0)).sum() * T * T
    return logits, zero_shot, ce / len(labels), kl / len(labels)


def projected(task, general, strength):
    """Remove ``strength`` of the task gradient's component along the general gradient when the
    two conflict (negative inner product)."""
    inner = (task * general).sum()
    if inner >= 0:
        return task
    return task - strength * inner / (general * general).sum() * general


def first_sgd_step(parameter, gradient, lr, momentum, weight_decay):
    """torch.optim.SGD's first step (the momentum buffer starts as the gradient itself)."""
    del momentum  # the first step's buffer is the gradient: momentum acts from the second
    return parameter - lr * (gradient + weight_decay * parameter)


def cosine(a, b):
    return float((a * b).sum() / math.sqrt(float((a * a).sum() * (b * b).sum())))
