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
one ``UnsupportedBackbone`` error naming what is supported. OpenCLIP (and the timm and
Hugging Face packages it imports) is imported only once an OpenCLIP model is met.
"""

from .base import OPENCLIP_PREFIX, SUPPORTED_BACKBONES, UnsupportedBackbone, project_text
from .openai import OpenAIBackbone

__all__ = [
    "SUPPORTED_BACKBONES",
    "UnsupportedBackbone",
    "OPENCLIP_PREFIX",
    "OpenAIBackbone",
    "backbone_of",
    "is_openclip_model",
    "is_openclip_name",
    "project_text",
    "tokenizer_of",
]


def is_openclip_model(clip_model):
    """Whether ``clip_model`` comes from OpenCLIP (any of its model classes)."""
    return type(clip_model).__module__.startswith("open_clip")


def is_openclip_name(name):
    """Whether ``MODEL.BACKBONE.NAME`` names an OpenCLIP model (``openclip:...``)."""
    return name.startswith(OPENCLIP_PREFIX)


def backbone_of(clip_model):
    """The adapter of ``clip_model``'s implementation (checked to be one the encoders run)."""
    if is_openclip_model(clip_model):
        from .openclip import OpenCLIPBackbone

        return OpenCLIPBackbone(clip_model)
    return OpenAIBackbone(clip_model)


def tokenizer_of(clip_model):
    """``prompts -> [n_prompts, context_length]`` token ids, as ``clip_model`` was trained with."""
    return backbone_of(clip_model).tokenize
