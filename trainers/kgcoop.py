"""KgCoOp (Yao et al., CVPR 2023): CoOp kept close to CLIP's hand-crafted class text features."""

import torch.nn.functional as F
from dassl.engine import TRAINER_REGISTRY

from prompting.context_prompt_model import ContextPromptCLIP
from prompting.prompted_clip import consistency_loss
from prompting.templates import check_template_table, hand_crafted_prompts
from prompting.text_encoder import encode_prompts_normalized
from run.user_errors import ConfigError

from .prompt_trainer import PromptTrainer, context_prompt_learner, context_prompt_node


class KgCoOpModel(ContextPromptCLIP):
    """CoOp's model plus the frozen text features of the dataset's hand-crafted template.

    The template features come from the same frozen CLIP, once, at build time; they are a
    non-persistent buffer, rebuilt for whichever classes the model is evaluated on.
    """

    def __init__(
        self, clip_model, prompt_learner, template_prompts, weight, checkpoint_text_blocks=False
    ):
        super().__init__(clip_model, prompt_learner, checkpoint_text_blocks)
        self.weight = weight
        print(f"Hand-crafted prompts: {template_prompts}")
        self.register_buffer(
            "template_text_features",
            encode_prompts_normalized(clip_model, template_prompts),  # [n_cls, E]
            persistent=False,
        )

    def training_loss(self, image, label):
        text_features = self.compute_text_features()  # [n_cls, E]
        logits = self.logits(self.image_features(image), text_features)
        guidance = consistency_loss(text_features, self.template_text_features)
        return logits, {"ce": F.cross_entropy(logits, label), "kg": self.weight * guidance}


@TRAINER_REGISTRY.register()
class KgCoOp(PromptTrainer):
    METHOD_CFG = "KGCOOP"
    PUBLISHED_CONFIG = "vit_b16_ep100_ctxv1.yaml"

    @classmethod
    def config_node(cls):
        node = context_prompt_node(super().config_node(), n_ctx=4, ctx_init="a photo of a")
        node.W = 8.0  # weight of the knowledge-guided consistency loss
        node.TEMPLATES = "kgcoop"  # hand-crafted template table: coop, kgcoop, sep_reference
        return node

    def check_cfg(self, cfg):
        super().check_cfg(cfg)
        if cfg.TRAINER.KGCOOP.W < 0:
            raise ConfigError(f"TRAINER.KGCOOP.W must be >= 0, got {cfg.TRAINER.KGCOOP.W}")
        check_template_table(cfg.TRAINER.KGCOOP.TEMPLATES, "TRAINER.KGCOOP.TEMPLATES")

    def build_custom_clip(self, classnames, clip_model):
        method_cfg = self.method_cfg
        learner = context_prompt_learner(method_cfg, classnames, clip_model)
        prompts = hand_crafted_prompts(
            self.cfg.DATASET.NAME,
            classnames,
            method_cfg.TEMPLATES,
            self.cfg.DATASET.PROMPT_TEMPLATE,
        )
        return KgCoOpModel(
            clip_model, learner, prompts, method_cfg.W, method_cfg.CHECKPOINT_TEXT_BLOCKS
        )
