"""CLIP with deep prompts in both encoders: IVLP's model, also MaPLe's and PromptSRC's.

The text side is a ``ContextPromptLearner`` (the context at positions ``1..n`` of every class
prompt) plus one learned set per deeper block; the image side takes a list of visual prompt
sets, entry 0 appended at the input and entry ``i`` replacing them before block ``i``. IVLP
learns the visual sets (``IndependentPrompts``); MaPLe computes them from the text sets.
"""

import torch
import torch.nn as nn

from run.user_errors import ModelOptionError

from .image_encoder import PromptedImageEncoder
from .prompt_learner import ContextPromptLearner
from .prompted_clip import PromptedCLIP, normalize
from .text_encoder import TextEncoder


def prompt_sets(count, n_tokens, width):
    """``count`` learned sets of ``n_tokens`` tokens ``[n_tokens, width]``, N(0, 0.02^2)."""
    sets = nn.ParameterList()
    for _ in range(count):
        tokens = torch.empty(n_tokens, width)
        nn.init.normal_(tokens, std=0.02)
        sets.append(nn.Parameter(tokens))
    return sets


def check_prompt_depth(
    depth: int, n_blocks: int, encoder: str, option: str = "prompt depth", minimum: int = 0
) -> None:
    """The one prompt-depth check: ``depth`` prompt sets (one enters each block up to the
    depth) must fit an encoder of ``n_blocks`` blocks; ``option`` names the value in the message
    (trainers pass their config key)."""
    if depth < minimum:
        raise ModelOptionError(f"{option} must be >= {minimum} for the {encoder}, got {depth}")
    if depth > n_blocks:
        raise ModelOptionError(
            f"{option} {depth} exceeds the {n_blocks} blocks of this CLIP's {encoder}: set "
            f"it to at most {n_blocks}"
        )


class DeepTextPrompts(nn.Module):
    """The text context (``prompt_learner.ctx``, ``[n, Dt]``) and ``depth - 1`` deeper sets
    (``deep.<i>``, replacing the context before block ``i + 1``)."""

    def __init__(self, classnames, clip_model, n_ctx, depth, ctx_init=""):
        super().__init__()
        n_blocks = len(clip_model.transformer.resblocks)
        check_prompt_depth(depth, n_blocks, "text encoder", "text prompt depth", minimum=1)
        self.prompt_learner = ContextPromptLearner(
            classnames, clip_model, n_ctx, ctx_init, keep_rest_of_phrase=True
        )
        width = clip_model.ln_final.weight.shape[0]
        self.deep = prompt_sets(depth - 1, n_ctx, width)

    def layers(self):
        """Every text prompt set, the input context first: ``depth`` tensors ``[n, Dt]``."""
        return [self.prompt_learner.ctx, *self.deep]


class IndependentPrompts(nn.Module):
    """IVLP's learned tensors: deep text prompts and, independently, deep visual prompts
    (``visual.<i>``, ``[m, Dv]``; entry 0 at the input)."""

    def __init__(self, text, clip_model, n_ctx_vision, vision_depth):
        super().__init__()
        visual = clip_model.visual
        check_prompt_depth(vision_depth, len(visual.transformer.resblocks), "image encoder")
        if vision_depth > 0 and n_ctx_vision < 1:
            raise ValueError(f"{n_ctx_vision} visual prompt tokens at depth {vision_depth}")
        self.text = text
        self.visual = prompt_sets(vision_depth, n_ctx_vision, visual.conv1.out_channels)

    def visual_prompts(self):
        return list(self.visual)


class DeepPromptCLIP(PromptedCLIP):
    """Prompted features and logits from ``learnable``: its ``text`` (``DeepTextPrompts``) and
    ``visual_prompts()`` (a list of ``[m, Dv]``, possibly empty)."""

    def __init__(self, clip_model, learnable, method, checkpoint_text_blocks=False):
        super().__init__(clip_model)
        self.learnable = learnable
        self.text_encoder = TextEncoder(clip_model, checkpoint_blocks=checkpoint_text_blocks)
        self.prompted_image_encoder = PromptedImageEncoder(clip_model, method=method)

    def compute_text_features(self):
        text = self.learnable.text
        learner = text.prompt_learner
        features = self.text_encoder(learner(), learner.tokenized_prompts, list(text.deep))
        return normalize(features)  # [n_cls, E]

    def image_features(self, image):
        prompts = self.learnable.visual_prompts()
        if not prompts:
            return normalize(self.prompted_image_encoder(image))
        return normalize(self.prompted_image_encoder(image, prompts[0], prompts[1:]))  # [B, E]

    def forward(self, image):
        return self.logits(self.image_features(image), self.text_features())
