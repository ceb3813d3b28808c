"""MaPLe (Khattak et al., CVPR 2023): deep text prompts whose visual counterparts are linear
functions of them, one coupling layer per block up to the prompt depth.

See docs/methods/maple.md.
"""

import copy

import torch.nn as nn
from dassl.engine import TRAINER_REGISTRY

from prompting.deep_prompt_model import DeepPromptCLIP, DeepTextPrompts, check_prompt_depth
from run.user_errors import ConfigError

from .prompt_trainer import PromptTrainer, check_ctx_init, check_prompt_depths_fit


class CoupledPrompts(nn.Module):
    """MaPLe's learned tensors: the deep text prompts and the coupling layers ``coupling.<i>``
    (``Linear(Dt, Dv)``) that turn text prompt set ``i`` into visual prompt set ``i``."""

    def __init__(self, text, clip_model):
        super().__init__()
        visual = clip_model.visual
        depth = len(text.layers())
        check_prompt_depth(depth, len(visual.transformer.resblocks), "image encoder")
        text_width = clip_model.ln_final.weight.shape[0]
        vision_width = visual.conv1.out_channels
        self.text = text
        # As the authors' code: the input's layer on its own, the deeper layers copies of one
        # freshly initialised layer (they start identical and diverge in training).
        deeper = nn.Linear(text_width, vision_width)
        self.coupling = nn.ModuleList(
            [nn.Linear(text_width, vision_width)]
            + [copy.deepcopy(deeper) for _ in range(depth - 1)]
        )

    def visual_prompts(self):
        """``[n, Dv]`` per block up to the depth: ``F_i(P_t^i)``."""
        return [layer(prompts) for layer, prompts in zip(self.coupling, self.text.layers())]


@TRAINER_REGISTRY.register()
class MaPLe(PromptTrainer):
    METHOD_CFG = "MAPLE"
    NEEDS_VIT = True  # visual prompts join the ViT's token sequence
    PUBLISHED_CONFIG = "vit_b16_c2_ep5_batch4_2ctx.yaml"
    AUTHORS_CHECKPOINT_LAYOUT = "coupled"
    TINY_DEPTH_OPTIONS = ("TRAINER.MAPLE.PROMPT_DEPTH", 2)

    @classmethod
    def config_node(cls):
        node = super().config_node()
        node.N_CTX = 2  # prompt tokens per block, text and vision
        node.CTX_INIT = "a photo of a"  # its first N_CTX tokens initialise the text context
        node.PROMPT_DEPTH = 9  # blocks of each encoder that receive prompts (1 = input only)
        node.CHECKPOINT_TEXT_BLOCKS = False  # recompute text blocks in backward to save memory
        return node

    def check_cfg(self, cfg):
        super().check_cfg(cfg)
        node = cfg.TRAINER.MAPLE
        check_ctx_init(node.CTX_INIT, node.N_CTX, "TRAINER.MAPLE", "N_CTX")
        if node.PROMPT_DEPTH < 1:
            raise ConfigError(f"TRAINER.MAPLE.PROMPT_DEPTH must be >= 1, got {node.PROMPT_DEPTH}")

    def build_custom_clip(self, classnames, clip_model):
        node = self.method_cfg
        key = "TRAINER.MAPLE.PROMPT_DEPTH"
        check_prompt_depths_fit(clip_model, node.PROMPT_DEPTH, node.PROMPT_DEPTH, key, key)
        text = DeepTextPrompts(classnames, clip_model, node.N_CTX, node.PROMPT_DEPTH, node.CTX_INIT)
        learnable = CoupledPrompts(text, clip_model)
        return DeepPromptCLIP(clip_model, learnable, "MaPLe", node.CHECKPOINT_TEXT_BLOCKS)
