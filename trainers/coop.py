"""CoOp (Zhou et al., IJCV 2022): learnable context vectors in front of the class name."""

from dassl.engine import TRAINER_REGISTRY

from prompting.context_prompt_model import ContextPromptCLIP, context_prompt_learner

from .prompt_trainer import PromptTrainer


@TRAINER_REGISTRY.register()
class CoOp(PromptTrainer):
    METHOD_CFG = "COOP"

    def build_custom_clip(self, classnames, clip_model):
        learner = context_prompt_learner(self.method_cfg, classnames, clip_model)
        return ContextPromptCLIP(clip_model, learner, self.method_cfg.CHECKPOINT_TEXT_BLOCKS)
