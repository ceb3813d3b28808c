"""The few things the prompted encoders need from a CLIP implementation, for each one supported.

The encoders run CLIP's own modules (patch embedding, positional embeddings, residual blocks,
final norms, projections) and never copy them; what differs between implementations is how a
residual block is called (sequence- or batch-first, where the causal mask lives), how the text
features are projected, the image resolution and the tokenizer. ``backbone_of(clip_model)``
returns the adapter that knows this for the model's implementation:

- ``OpenAIBackbone``: OpenAI's ``clip`` package (``clip.model.CLIP``, the pinned clip-anytorch);
- ``OpenCLIPBackbone``: OpenCLIP's ``open_clip.model.CLIP`` whose image tower is its
  ``VisionTransformer`` and whose text tower is its causal text transformer.

Anything else (timm or Hugging Face towers, ResNets, CoCa, attention pooling) is refused with
one ``UnsupportedBackbone`` error naming what is supported.
"""

from .base import SUPPORTED_BACKBONES, UnsupportedBackbone, project_text
from .openai import OpenAIBackbone
from .openclip import OpenCLIPBackbone, is_openclip_model

__all__ = [
    "SUPPORTED_BACKBONES",
    "UnsupportedBackbone",
    "OpenAIBackbone",
    "OpenCLIPBackbone",
    "backbone_of",
    "project_text",
    "tokenizer_of",
]


def backbone_of(clip_model):
    """The adapter of ``clip_model``'s implementation (checked to be one the encoders run)."""
    if is_openclip_model(clip_model):
        return OpenCLIPBackbone(clip_model)
    return OpenAIBackbone(clip_model)


def tokenizer_of(clip_model):
    """``prompts -> [n_prompts, context_length]`` token ids, as ``clip_model`` was trained with."""
    return backbone_of(clip_model).tokenize
