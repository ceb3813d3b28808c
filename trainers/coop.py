"""CoOp (Zhou et al., IJCV 2022): learnable context vectors in front of the class name."""
from dassl.engine import TRAINER_REGISTRY

from .prompt_learner import ContextPromptLearner
from .prompt_trainer import PromptTrainer
from .prompted_clip import PromptedCLIP, normalize
from .text_encoder import TextEncoder


class CoOpModel(PromptedCLIP):
    def __init__(self, clip_model, prompt_learner, checkpoint_text_blocks=False):
        super().__init__(clip_model)
        self.learnable = prompt_learner
        self.text_encoder = TextEncoder(clip_model, checkpoint_blocks=checkpoint_text_blocks)

    def compute_text_features(self):
        learner = self.learnable
        return normalize(self.text_encoder(learner(), learner.tokenized_prompts))

    def image_features(self, image):
        return normalize(self.image_encoder(image.type(self.dtype)))

    def forward(self, image):
        return self.logits(self.image_features(image), self.text_features())


def coop_prompt_learner(method_cfg, classnames, clip_model):
    return ContextPromptLearner(
        classnames,
        clip_model,
        n_ctx=method_cfg.N_CTX,
        ctx_init=method_cfg.CTX_INIT,
        class_specific=method_cfg.CSC,
        class_token_position=method_cfg.CLASS_TOKEN_POSITION,
    )


@TRAINER_REGISTRY.register()
class CoOp(PromptTrainer):
    METHOD_CFG = "COOP"

    def build_custom_clip(self, classnames, clip_model):
        learner = coop_prompt_learner(self.method_cfg, classnames, clip_model)
        return CoOpModel(clip_model, learner, self.method_cfg.CHECKPOINT_TEXT_BLOCKS)
