"""What every CLIP implementation adapter provides, and the error for those not supported."""

import torch
import torch.nn as nn

from run.user_errors import ConfigError

OPENCLIP_PREFIX = "openclip:"  # MODEL.BACKBONE.NAME of an OpenCLIP model
SUPPORTED_BACKBONES = (
    "OpenAI CLIP ViTs (ViT-B/32, ViT-B/16, ViT-L/14, ...; a name or OpenAI's JIT file) and "
    "OpenCLIP models whose image tower is OpenCLIP's own VisionTransformer with class-token "
    "pooling and whose text tower is its causal text transformer pooled at [EOS] "
    '("openclip:ViT-B-16/laion2b_s34b_b88k", "openclip:ViT-L-14@<file>", '
    '"openclip:hf-hub:<org>/<repo>", "openclip:local-dir:<folder>")'
)


class UnsupportedBackbone(ConfigError):
    pass


def unsupported(what):
    return UnsupportedBackbone(
        f"{what}: the prompted encoders run {SUPPORTED_BACKBONES}. Choose such a "
        "MODEL.BACKBONE.NAME."
    )


def project_text(features, projection):
    """``[n, width]`` -> ``[n, embed_dim]`` through a text projection that is a matrix (OpenAI,
    most OpenCLIP models) or an ``nn.Linear`` (OpenCLIP's text towers with a bias)."""
    if isinstance(projection, nn.Linear):
        return projection(features)
    return features @ projection


def projection_dtype(projection):
    """The dtype of a text projection's weights (matrix or ``nn.Linear``)."""
    return (projection.weight if isinstance(projection, nn.Linear) else projection).dtype


class Backbone:
    """The adapter of one loaded CLIP model: its block calls, resolution and tokenizer.

    The encoders keep their sequences sequence-first (``[L, batch, D]``), the layout their
    ``before_block`` hooks and deep prompts use; ``run_text_block`` and ``run_image_block``
    take and return that layout whatever the implementation's blocks expect.
    """

    def __init__(self, clip_model):
        self.clip_model = clip_model

    @property
    def text_blocks(self):
        return self.clip_model.transformer.resblocks

    @property
    def image_blocks(self):
        return self.clip_model.visual.transformer.resblocks

    @property
    def image_resolution(self) -> int:
        raise NotImplementedError

    def tokenize(self, prompts) -> torch.Tensor:
        raise NotImplementedError

    def run_text_block(self, block, x):
        """``x`` ``[L, n, D]`` through one causal text block (any ``L`` up to the context)."""
        raise NotImplementedError

    def run_image_block(self, block, x):
        """``x`` ``[1 + HW + m, B, Dv]`` through one image block."""
        raise NotImplementedError

    @property
    def text_accepts_shorter_sequences(self) -> bool:
        """Whether the text blocks run on fewer positions than the context length."""
        return True
