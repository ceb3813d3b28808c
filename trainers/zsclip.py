"""Zero-shot CLIP with the hand-crafted per-dataset template (no training)."""

import time

from dassl.engine import TRAINER_REGISTRY

from prompting.prompted_clip import PromptedCLIP, normalize
from prompting.templates import hand_crafted_prompts
from prompting.text_encoder import register_frozen_text_features

from .prompt_trainer import PromptTrainer


class ZeroshotCLIPModel(PromptedCLIP):
    def __init__(self, clip_model, prompts):
        super().__init__(clip_model)
        register_frozen_text_features(self, "text_features_fixed", clip_model, prompts, "Prompts")

    def compute_text_features(self):
        return self.text_features_fixed

    def forward(self, image):
        image_features = normalize(self.image_encoder(image.type(self.dtype)))
        return self.logits(image_features, self.text_features())


@TRAINER_REGISTRY.register()
class ZeroshotCLIP(PromptTrainer):
    METHOD_CFG = "ZSCLIP"
    PUBLISHED_CONFIG = "vit_b16.yaml"
    PUBLISHED_NAME = "CLIP"
    LEARNER_NAME = None  # nothing is trained, so --model-dir has nothing to load

    def build_custom_clip(self, classnames, clip_model):
        self.max_epoch = 0  # nothing to learn: "training" only runs the final evaluation
        prompts = hand_crafted_prompts(
            self.cfg.DATASET.NAME, classnames, template=self.cfg.DATASET.PROMPT_TEMPLATE
        )
        return ZeroshotCLIPModel(clip_model, prompts)

    def before_train(self):
        # Nothing to resume: Dassl's resume logic assumes at least one registered model.
        self.init_writer(self.output_dir)
        self.time_start = time.time()
