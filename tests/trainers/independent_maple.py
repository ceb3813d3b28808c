"""MaPLe written out plainly: the visual prompt of each block is a linear function of that
block's text prompt; otherwise the deep prompts act as in IVLP."""

from tests.trainers.independent_ivlp import ivlp_logits_and_loss


def coupled_visual_prompts(text_prompts, weights, biases):
    """Visual prompt i = text prompt i @ W_i^T + b_i, [n_ctx, Dt] -> [n_ctx, Dv]."""
    return [p.float() @ w.float().t() + b.float() for p, w, b in zip(text_prompts, weights, biases)]


def maple_logits_and_loss(
    clip_model, images, labels, classnames, phrase, text_prompts, weights, biases
):
    visual_prompts = coupled_visual_prompts(text_prompts, weights, biases)
    return ivlp_logits_and_loss(
        clip_model, images, labels, classnames, phrase, text_prompts, visual_prompts
    )
