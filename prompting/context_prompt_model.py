"""CLIP with a learnable text context (CoOp's model), shared by CoOp, KgCoOp and CoCoOp."""

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
