"""OpenCLIP's ``open_clip.model.CLIP``: batch-first blocks, the causal mask passed per call."""

import functools

from open_clip.model import CLIP as OpenCLIPModel
from open_clip.tokenizer import SimpleTokenizer
from open_clip.transformer import VisionTransformer

from .base import Backbone, unsupported


@functools.cache
def default_tokenizer(context_length):
    """OpenCLIP's CLIP tokenizer (reading its vocabulary takes a moment: once per length)."""
    return SimpleTokenizer(context_length=context_length)


class OpenCLIPBackbone(Backbone):
    """Checks at construction that the model's towers are ones the prompted encoders run."""

    def __init__(self, clip_model):
        super().__init__(clip_model)
        check_openclip_towers(clip_model)
        # the tokenizer the loader attached (the model's own); OpenCLIP's default otherwise
        self._tokenizer = getattr(clip_model, "tokenizer", None) or default_tokenizer(
            clip_model.context_length
        )
        check_tokenizer(self._tokenizer)

    @property
    def image_resolution(self):
        height, width = self.clip_model.visual.image_size
        if height != width:
            raise unsupported(f"OpenCLIP image tower of non-square size {height}x{width}")
        return height

    def tokenize(self, prompts):
        context_length = self._tokenizer.context_length
        for prompt in prompts:  # OpenCLIP's tokenizer truncates silently; CLIP's refuses
            if len(self._tokenizer.encode(prompt)) + 2 > context_length:
                raise RuntimeError(
                    f"Input {prompt} is too long for context length {context_length}"
                )
        return self._tokenizer(list(prompts))

    def run_text_block(self, block, x):
        length = x.shape[0]
        mask = self.clip_model.attn_mask[:length, :length].to(device=x.device)
        return run_block(block, x, self.clip_model.transformer.batch_first, attn_mask=mask)

    def run_image_block(self, block, x):
        return run_block(block, x, self.clip_model.visual.transformer.batch_first)


def run_block(block, x, batch_first, **kwargs):
    """``x`` ``[L, batch, D]`` through an OpenCLIP block, in the layout its transformer uses."""
    if not batch_first:
        return block(x, **kwargs)
    return block(x.transpose(0, 1), **kwargs).transpose(0, 1)  # the block sees [batch, L, D]


def check_openclip_towers(clip_model):
    """Refuse, naming what is supported, the OpenCLIP models the encoders cannot run."""
    name = type(clip_model).__name__
    if not isinstance(clip_model, OpenCLIPModel):
        raise unsupported(f"OpenCLIP {name} (its text tower is not OpenCLIP's text transformer)")
    visual = clip_model.visual
    if not isinstance(visual, VisionTransformer):
        raise unsupported(f"OpenCLIP image tower {type(visual).__name__}")
    if visual.attn_pool is not None or visual.pool_type != "tok":
        pooling = "attention pooling" if visual.attn_pool is not None else visual.pool_type
        raise unsupported(f"OpenCLIP VisionTransformer pooled by {pooling}, not its class token")
    if clip_model.attn_mask is None:
        raise unsupported("OpenCLIP text tower without a causal mask")
    if clip_model.text_pool_type != "argmax":
        raise unsupported(f'OpenCLIP text tower pooled by "{clip_model.text_pool_type}"')


def check_tokenizer(tokenizer):
    # [EOS] pooling takes the largest token id, as OpenCLIP's "argmax" pooling does: only its
    # CLIP byte-pair tokenizer puts [EOS] there
    if not isinstance(tokenizer, SimpleTokenizer):
        raise unsupported(f"OpenCLIP tokenizer {type(tokenizer).__name__}")
