"""CoOp (Zhou et al., IJCV 2022): learnable context vectors in front of the class name."""

from dassl.engine import TRAINER_REGISTRY

from prompting.context_prompt_model import ContextPromptCLIP

from .prompt_trainer import PromptTrainer, context_prompt_learner, context_prompt_node


@TRAINER_REGISTRY.register()
class CoOp(PromptTrainer):
    METHOD_CFG = "COOP"
    PUBLISHED_CONFIG = "vit_b16_ep50_ctxv1.yaml"

    @classmethod
    def config_node(cls):
        return context_prompt_node(super().config_node(), n_ctx=16)

    def build_custom_clip(self, classnames, clip_model):
        learner = context_prompt_learner(self.method_cfg, classnames, clip_model)
        return ContextPromptCLIP(clip_model, learner, self.method_cfg.CHECKPOINT_TEXT_BLOCKS)
