"""KgCoOp (Yao et al., CVPR 2023): CoOp kept close to CLIP's hand-crafted class text features."""

from dassl.engine import TRAINER_REGISTRY

from prompting.context_prompt_model import ContextPromptCLIP
from prompting.template_guidance import TemplateGuided
from prompting.templates import check_template_table, hand_crafted_prompts
from run.config_aliases import IGNORED, Alias, family_ctx_init
from run.user_errors import ConfigError

from .prompt_trainer import PromptTrainer, context_prompt_learner, context_prompt_node


class KgCoOpModel(TemplateGuided, ContextPromptCLIP):
    """CoOp's model plus the frozen text features of the dataset's hand-crafted template."""

    def __init__(
        self, clip_model, prompt_learner, template_prompts, weight, checkpoint_text_blocks=False
    ):
        super().__init__(clip_model, prompt_learner, checkpoint_text_blocks)
        self.register_template_features(clip_model, template_prompts, weight)


@TRAINER_REGISTRY.register()
class KgCoOp(PromptTrainer):
    METHOD_CFG = "KGCOOP"
    PUBLISHED_CONFIG = "vit_b16_ep100_ctxv1.yaml"
    LOGGED_LOSS_TERMS = ("ce", "kg")
    FAMILY_CONFIG_ALIASES = {
        "TRAINER.COOP.N_CTX": Alias("TRAINER.KGCOOP.N_CTX"),
        "TRAINER.COOP.CSC": Alias("TRAINER.KGCOOP.CSC"),
        "TRAINER.COOP.CTX_INIT": Alias("TRAINER.KGCOOP.CTX_INIT", family_ctx_init),
        "TRAINER.COOP.W": Alias("TRAINER.KGCOOP.W"),
        "TRAINER.COOP.PREC": Alias("TRAINER.KGCOOP.PREC"),
        "TRAINER.COOP.CLASS_TOKEN_POSITION": Alias("TRAINER.KGCOOP.CLASS_TOKEN_POSITION"),
        "TRAINER.COOP.ALPHA": IGNORED,  # declared by KgCoOp's train.py, read by no trainer
    }

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
