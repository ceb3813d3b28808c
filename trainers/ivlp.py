"""IVLP (independent vision-language prompting): deep prompts in both encoders, each set
learned on its own and replacing the previous block's prompt outputs up to a depth.

The baseline of MaPLe (Khattak et al., CVPR 2023) and the model PromptSRC trains; see
docs/methods/ivlp.md.
"""

from dassl.engine import TRAINER_REGISTRY

from prompting.deep_prompt_model import DeepPromptCLIP

from .prompt_trainer import (
    PromptTrainer,
    check_deep_prompt_cfg,
    deep_prompt_node,
    independent_prompts,
)


@TRAINER_REGISTRY.register()
class IVLP(PromptTrainer):
    METHOD_CFG = "IVLP"
    NEEDS_VIT = True  # visual prompts join the ViT's token sequence
    PUBLISHED_CONFIG = "vit_b16_c2_ep20_batch4_4+4ctx.yaml"
    AUTHORS_CHECKPOINT_LAYOUT = "independent"
    TINY_DEPTH_OPTIONS = (
        "TRAINER.IVLP.PROMPT_DEPTH_TEXT",
        2,
        "TRAINER.IVLP.PROMPT_DEPTH_VISION",
        2,
    )

    @classmethod
    def config_node(cls):
        return deep_prompt_node(super().config_node())

    def check_cfg(self, cfg):
        super().check_cfg(cfg)
        check_deep_prompt_cfg(cfg.TRAINER.IVLP, "TRAINER.IVLP")

    def build_custom_clip(self, classnames, clip_model):
        learnable = independent_prompts(self.method_cfg, "TRAINER.IVLP", classnames, clip_model)
        return DeepPromptCLIP(clip_model, learnable, "IVLP", self.method_cfg.CHECKPOINT_TEXT_BLOCKS)
