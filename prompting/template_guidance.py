"""KgCoOp's knowledge guidance, shared by the methods that use it (KgCoOp, TCP): the frozen text
features of the dataset's hand-crafted prompts and the cross-entropy plus consistency loss."""

import torch.nn.functional as F

from .prompted_clip import consistency_loss
from .text_encoder import register_frozen_text_features


class TemplateGuided:
    """Mixin for a ``PromptedCLIP`` whose ``image_features`` and ``compute_text_features`` give
    normalised features: ``training_loss`` adds ``weight * (1 - mean cosine)`` to the frozen
    template features.

    The template features come from the same frozen CLIP, once, at build time; they are a
    non-persistent buffer, rebuilt for whichever classes the model is evaluated on.
    """

    def register_template_features(self, clip_model, template_prompts, weight):
        self.weight = weight
        register_frozen_text_features(
            self, "template_text_features", clip_model, template_prompts, "Hand-crafted prompts"
        )

    def training_loss(self, image, label):
        text_features = self.compute_text_features()  # [n_cls, E]
        logits = self.logits(self.image_features(image), text_features)
        guidance = consistency_loss(text_features, self.template_text_features)
        return logits, {"ce": F.cross_entropy(logits, label), "kg": self.weight * guidance}
