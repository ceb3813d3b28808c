"""OpenAI's ``clip`` package: sequence-first blocks that hold the causal mask themselves."""

import torch
from clip import clip

from .base import Backbone


class OpenAIBackbone(Backbone):
    """Its ResNets run too where only the text encoder is prompted (``check_vit`` refuses them
    to methods that prompt the image encoder)."""

    @property
    def image_resolution(self):
        return self.clip_model.visual.input_resolution

    def tokenize(self, prompts):
        context_length = self.clip_model.positional_embedding.shape[0]
        return torch.cat([clip.tokenize(prompt, context_length) for prompt in prompts])

    def run_text_block(self, block, x):
        return block(x)

    def run_image_block(self, block, x):
        return block(x)

    @property
    def text_accepts_shorter_sequences(self):
        """clip-anytorch (the pinned CLIP) slices the causal mask to the sequence; OpenAI's
        original package passes the full 77x77 mask and would fail, so skipping padding is then
        turned off."""
        block = self.text_blocks[0]
        weight = block.attn.in_proj_weight
        probe = torch.zeros(2, 1, weight.shape[1], dtype=weight.dtype, device=weight.device)
        try:
            with torch.no_grad():
                block(probe)
        except RuntimeError:
            return False
        return True
