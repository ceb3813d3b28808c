"""CLIP's ViT run block by block, with prompt tokens inserted at the input and before blocks.

The encoder runs CLIP's own modules (``conv1``, ``ln_pre``, the residual blocks, ``ln_post``,
``proj``) of OpenAI's ``clip`` or OpenCLIP (``prompting/backbones`` says how each one's
blocks are called); nothing of CLIP is copied or modified. Its sequence is
``[CLS] + patches + prompts``: prompts are appended once positional embeddings are added,
before ``ln_pre``, and they are always the last ``m`` tokens, which is where the per-block
rewrites below find them. Three ways a method changes them, all through ``forward`` or one
hook:

- ``prompts``: ``[m, Dv]`` (shared) or ``[B, m, Dv]`` tokens appended at the input;
- ``deep_prompts``: a sequence whose ``k``-th entry replaces the last ``m`` tokens before block
  ``k + 1`` (VPT-deep / IVLP learn them; MaPLe computes them per call from its text prompts);
- ``before_block(index, x)``: a subclass rewrites the sequence before block ``index`` (SEP
  fuses its prompt tokens with representative pre-trained tokens there).
"""

import torch
import torch.nn as nn

from .backbones import backbone_of
from .clip_loading import check_vit
from .deep_prompts import check_deep_prompts, deep_prompt_for, replace_tokens
from .text_encoder import run_block


class PromptedImageEncoder(nn.Module):
    """CLIP's ViT with prompt tokens; without any, it computes ``clip_model.encode_image``.

    Registers and freezes CLIP's vision tower (``self.visual``): its ``state_dict()`` holds
    CLIP's weights, so a method keeps what it learns in its own module, never here.
    ``method`` names the method in the error a ResNet backbone raises.
    ``gradient_checkpointing`` recomputes each block's activations in the backward pass.
    """

    def __init__(self, clip_model, method="A prompted image encoder", gradient_checkpointing=False):
        super().__init__()
        check_vit(method, clip_model=clip_model)
        self.backbone = backbone_of(clip_model)  # not a module: holds no weights of its own
        self.visual = clip_model.visual
        self.visual.requires_grad_(False)
        self.gradient_checkpointing = gradient_checkpointing

    @property
    def dtype(self):
        return self.visual.conv1.weight.dtype

    @property
    def width(self):
        return self.visual.conv1.out_channels

    @property
    def depth(self):
        return len(self.visual.transformer.resblocks)

    @property
    def n_pretrained_tokens(self):
        return self.visual.positional_embedding.shape[0]  # [CLS] + patches

    def before_block(self, index, x):
        """``x`` ``[1 + HW + m, B, Dv]`` as block ``index`` receives it (after any deep prompt
        replacement); methods that rewrite tokens inside the encoder override this."""
        return x

    def embed(self, images):
        """``[B, 3, H, W]`` images -> ``[B, 1 + HW, Dv]`` [CLS] + patch tokens with positions."""
        visual = self.visual
        x = visual.conv1(images.type(self.dtype))  # [B, Dv, grid, grid]
        x = x.flatten(2).permute(0, 2, 1)  # [B, HW, Dv]
        self._check_grid(images, x)
        class_token = visual.class_embedding.type(x.dtype).expand(x.shape[0], 1, -1)
        return torch.cat([class_token, x], dim=1) + visual.positional_embedding.type(x.dtype)

    def forward(self, images, prompts=None, deep_prompts=None):
        """``[B, 3, H, W]`` images -> ``[B, embed_dim]`` features (the projected [CLS] token)."""
        x = self.embed(images)
        if prompts is not None:
            prompts = prompts.type(x.dtype).expand(x.shape[0], -1, -1)  # [B, m, Dv]
            x = torch.cat([x, prompts], dim=1)  # [B, 1 + HW + m, Dv]
        if deep_prompts is not None:
            n_prompts = 0 if prompts is None else prompts.shape[1]
            check_deep_prompts(deep_prompts, self.depth, n_prompts, "image encoder")
        x = self.visual.ln_pre(x).permute(1, 0, 2)  # CLIP's sequence-first layout
        for index, block in enumerate(self.visual.transformer.resblocks):
            deep_prompt = deep_prompt_for(deep_prompts, index)
            if deep_prompt is not None:
                x = replace_tokens(x, deep_prompt, start=x.shape[0] - n_prompts)
            x = run_block(
                block,
                self.before_block(index, x),
                self.gradient_checkpointing,
                self.backbone.run_image_block,
            )
        x = self.visual.ln_post(x[0])  # [B, Dv]: the [CLS] token
        if self.visual.proj is not None:
            x = x @ self.visual.proj
        return x

    def _check_grid(self, images, patches):
        expected = self.n_pretrained_tokens - 1
        if patches.shape[1] != expected:
            resolution = self.backbone.image_resolution
            raise ValueError(
                f"Images of size {tuple(images.shape[-2:])} give {patches.shape[1]} patches; this "
                f"CLIP backbone expects {resolution}x{resolution} images ({expected} patches)"
            )
