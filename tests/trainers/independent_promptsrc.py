"""PromptSRC written out plainly: IVLP prompts, the self-regulating loss terms against frozen
CLIP, and Gaussian-weighted prompt aggregation over epochs."""

import math

import torch
import torch.nn.functional as F

from tests.trainers.independent_clip import encode_image, encode_text, token_embeddings, unit
from tests.trainers.independent_ivlp import ivlp_features, logits_of


def frozen_text_features(clip_model, classnames, templates):
    """Normalised mean over the templates of frozen CLIP's (unnormalised) class text features."""
    per_template = []
    for template in templates:
        texts = [template.format(name.replace("_", " ")) for name in classnames]
        tokens, embeddings = token_embeddings(clip_model, texts)
        per_template.append(encode_text(clip_model, embeddings, tokens))
    return unit(torch.stack(per_template).mean(dim=0))


def promptsrc_loss_terms(
    clip_model, images, labels, classnames, phrase, text_prompts, visual_prompts, templates
):
    """Logits and the unweighted terms: CE, L1 text, L1 image, KL of the logits."""
    image, text = ivlp_features(
        clip_model, images, classnames, phrase, text_prompts, visual_prompts
    )
    logits = logits_of(clip_model, image, text)
    frozen_text = frozen_text_features(clip_model, classnames, templates)
    frozen_image = unit(encode_image(clip_model, images))
    frozen_logits = logits_of(clip_model, frozen_image, frozen_text)
    teacher = torch.softmax(frozen_logits, dim=1)
    kl = (teacher * (teacher.log() - torch.log_softmax(logits, dim=1))).sum()
    terms = {
        "ce": F.cross_entropy(logits, labels),
        "text": (text - frozen_text).abs().mean(),
        "image": (image - frozen_image).abs().mean(),
        "logits": kl / logits.numel(),  # summed KL over every (image, class) entry
    }
    return logits, terms


def promptsrc_total(terms, text_weight, image_weight):
    return (
        terms["ce"] + text_weight * terms["text"] + image_weight * terms["image"] + terms["logits"]
    )


def gaussian_epoch_weights(mean, std, epochs):
    """w_e proportional to the N(mean, std^2) density at epoch e = 1..epochs, summing to 1."""
    density = [
        math.exp(-0.5 * ((e - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
        for e in range(1, epochs + 1)
    ]
    return [d / sum(density) for d in density]


def aggregated(prompts_after_each_epoch, weights):
    """sum_e w_e * P_e for one tensor, given its value after each epoch."""
    return sum(w * p.float() for w, p in zip(weights, prompts_after_each_epoch))
