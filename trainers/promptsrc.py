"""PromptSRC (Khattak et al., ICCV 2023): IVLP's prompts regulated by frozen CLIP (feature
agreement, logit distillation, template-ensemble text features) and averaged over epochs with
Gaussian weights.

See docs/methods/promptsrc.md.
"""

import torch
import torch.nn.functional as F
from dassl.engine import TRAINER_REGISTRY

from prompting.deep_prompt_model import DeepPromptCLIP
from prompting.prompt_averaging import GaussianPromptAverage, gaussian_epoch_weights
from prompting.prompted_clip import normalize
from prompting.templates import ENSEMBLE_TEMPLATES
from prompting.text_encoder import encode_prompts
from run.user_errors import ConfigError

from .prompt_trainer import (
    PromptTrainer,
    check_deep_prompt_cfg,
    deep_prompt_node,
    independent_prompts,
)


@torch.no_grad()
def ensemble_text_features(clip_model, classnames, templates):
    """Frozen CLIP's class features averaged over ``templates`` (unnormalised, as the authors
    average them), then normalised: ``[n_cls, E]``."""
    names = [name.replace("_", " ") for name in classnames]
    prompts = [template.format(name) for template in templates for name in names]
    features = encode_prompts(clip_model, prompts).float()  # [n_templates * n_cls, E]
    return normalize(features.view(len(templates), len(names), -1).mean(dim=0))


class PromptSRCModel(DeepPromptCLIP):
    """IVLP's model whose training loss adds PromptSRC's self-regulating terms."""

    def __init__(
        self,
        clip_model,
        learnable,
        classnames,
        templates,
        text_weight,
        image_weight,
        checkpoint_text_blocks=False,
    ):
        super().__init__(clip_model, learnable, "PromptSRC", checkpoint_text_blocks)
        self.text_weight = text_weight
        self.image_weight = image_weight
        self.register_buffer(  # g0, rebuilt for whichever classes the model is evaluated on
            "ensemble_text_features",
            ensemble_text_features(clip_model, classnames, templates),
            persistent=False,
        )

    def frozen_image_features(self, image):
        with torch.no_grad():
            return normalize(self.image_encoder(image.type(self.dtype)))  # [B, E]

    def training_loss(self, image, label):
        text_features = self.text_features()  # [n_cls, E]
        image_features = self.image_features(image)  # [B, E]
        logits = self.logits(image_features, text_features)
        frozen_text = self.ensemble_text_features
        frozen_image = self.frozen_image_features(image)
        frozen_logits = self.logits(frozen_image.float(), frozen_text)
        # KL(frozen || prompted) summed over every (image, class) entry, divided by their number
        distillation = (
            F.kl_div(
                F.log_softmax(logits.float(), dim=1),
                F.log_softmax(frozen_logits, dim=1),
                reduction="sum",
                log_target=True,
            )
            / logits.numel()
        )
        terms = {
            "ce": F.cross_entropy(logits.float(), label),
            "text": self.text_weight * F.l1_loss(text_features.float(), frozen_text),
            "image": self.image_weight * F.l1_loss(image_features.float(), frozen_image.float()),
            "logits": distillation,
        }
        return logits, terms


@TRAINER_REGISTRY.register()
class PromptSRC(PromptTrainer):
    METHOD_CFG = "PROMPTSRC"
    NEEDS_VIT = True  # visual prompts join the ViT's token sequence
    PUBLISHED_CONFIG = "vit_b16_c2_ep20_batch4_4+4ctx.yaml"
    AUTHORS_CHECKPOINT_LAYOUT = "independent"
    LOGGED_LOSS_TERMS = ("ce", "text", "image", "logits")
    TINY_DEPTH_OPTIONS = (
        "TRAINER.PROMPTSRC.PROMPT_DEPTH_TEXT",
        2,
        "TRAINER.PROMPTSRC.PROMPT_DEPTH_VISION",
        2,
    )
    AVERAGE_NAME = "prompt_average"  # checkpoint folder of the running GPA sum

    @classmethod
    def config_node(cls):
        node = deep_prompt_node(super().config_node())
        node.TEXT_LOSS_WEIGHT = 25.0  # weight of the L1 agreement with the ensemble text features
        node.IMAGE_LOSS_WEIGHT = 10.0  # weight of the L1 agreement with frozen image features
        node.GPA_MEAN = 15.0  # mean (in epochs) of the Gaussian prompt-aggregation weights
        node.GPA_STD = 1.0  # their standard deviation (epochs)
        return node

    def check_cfg(self, cfg):
        super().check_cfg(cfg)
        node = cfg.TRAINER.PROMPTSRC
        check_deep_prompt_cfg(node, "TRAINER.PROMPTSRC")
        for key in ("TEXT_LOSS_WEIGHT", "IMAGE_LOSS_WEIGHT"):
            if node[key] < 0:
                raise ConfigError(f"TRAINER.PROMPTSRC.{key} must be >= 0, got {node[key]}")
        try:
            gaussian_epoch_weights(node.GPA_MEAN, node.GPA_STD, max(cfg.OPTIM.MAX_EPOCH, 1))
        except ValueError as error:
            raise ConfigError(f"TRAINER.PROMPTSRC.GPA_MEAN / GPA_STD: {error}") from error

    def build_custom_clip(self, classnames, clip_model):
        node = self.method_cfg
        learnable = independent_prompts(node, "TRAINER.PROMPTSRC", classnames, clip_model)
        return PromptSRCModel(
            clip_model,
            learnable,
            classnames,
            ENSEMBLE_TEMPLATES,
            node.TEXT_LOSS_WEIGHT,
            node.IMAGE_LOSS_WEIGHT,
            node.CHECKPOINT_TEXT_BLOCKS,
        )

    def build_model(self):
        super().build_model()
        node = self.method_cfg
        self.prompt_average = GaussianPromptAverage(
            self.model.learnable, node.GPA_MEAN, node.GPA_STD, max(self.cfg.OPTIM.MAX_EPOCH, 1)
        ).to(self.device)
        self.register_model(self.AVERAGE_NAME, self.prompt_average)

    def after_epoch(self):
        # Before Dassl saves the epoch, so that the checkpoint holds the updated sum and, after
        # the last epoch, the aggregated prompts that are then evaluated.
        self.prompt_average.add(self.model.learnable, self.epoch)
        if self.epoch + 1 == self.max_epoch:
            self.prompt_average.copy_to(self.model.learnable)
            print("Prompts replaced by their Gaussian-weighted average over epochs (GPA)")
        super().after_epoch()
