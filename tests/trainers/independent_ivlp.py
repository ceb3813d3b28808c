"""IVLP written out plainly: deep text and visual prompts, replaced before every block up to
their depth, and the cross-entropy of CLIP's scaled cosine logits."""

import torch.nn.functional as F

from tests.trainers.independent_clip import (
    encode_image,
    encode_text,
    prompted_text_inputs,
    unit,
)


def ivlp_features(clip_model, images, classnames, phrase, text_prompts, visual_prompts):
    """Normalised image features [B, E] and class text features [C, E].

    ``phrase``: the words the prompt starts with ("a photo of a", or "X X X X" for a random
    context); its first n_ctx positions carry the learned context. ``text_prompts``: list of
    [n_ctx, Dt]; entry 0 is the input context, entry i replaces the context before block i.
    ``visual_prompts``: list of [m, Dv], the same for the image (empty: no visual prompts).
    """
    tokens, embeddings = prompted_text_inputs(clip_model, phrase, classnames, text_prompts[0])
    deep_text = {i: p for i, p in enumerate(text_prompts) if i > 0}
    text = unit(encode_text(clip_model, embeddings, tokens, deep_text, text_prompts[0].shape[0]))
    if visual_prompts:
        deep_visual = {i: p for i, p in enumerate(visual_prompts) if i > 0}
        image = unit(encode_image(clip_model, images, visual_prompts[0], deep_visual))
    else:
        image = unit(encode_image(clip_model, images))
    return image, text


def logits_of(clip_model, image_features, text_features):
    return clip_model.logit_scale.exp().float() * image_features @ text_features.t()


def ivlp_logits_and_loss(
    clip_model, images, labels, classnames, phrase, text_prompts, visual_prompts
):
    image, text = ivlp_features(
        clip_model, images, classnames, phrase, text_prompts, visual_prompts
    )
    logits = logits_of(clip_model, image, text)
    return logits, F.cross_entropy(logits, labels)
