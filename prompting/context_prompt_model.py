"""CLIP with a learnable text context (CoOp's model), shared by CoOp, KgCoOp and CoCoOp."""

from .prompt_learner import ContextPromptLearner
from .prompted_clip import PromptedCLIP, normalize
from .text_encoder import TextEncoder


class ContextPromptCLIP(PromptedCLIP):
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


def context_prompt_learner(method_cfg, classnames, clip_model):
    """CoOp's prompt learner from a CoOp-style config node (N_CTX, CTX_INIT, CSC, position)."""
    return ContextPromptLearner(
        classnames,
        clip_model,
        n_ctx=method_cfg.N_CTX,
        ctx_init=method_cfg.CTX_INIT,
        class_specific=method_cfg.CSC,
        class_token_position=method_cfg.CLASS_TOKEN_POSITION,
    )
