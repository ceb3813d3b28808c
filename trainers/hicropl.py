"""HiCroPL (Zheng et al., ICCV 2025): deep text and visual prompts that refine each other,
text to vision in the early blocks and vision to text in the late ones, through layer-specific
knowledge proxies and a hierarchical knowledge mapper; features fused with frozen CLIP's.

See docs/methods/hicropl.md.
"""

import os

import torch
import torch.nn.functional as F
from dassl.engine import TRAINER_REGISTRY

from prompting.class_descriptions import (
    averaged_class_features,
    read_descriptions,
    template_descriptions,
)
from prompting.cross_modal_flow import FLOWS, CrossModalPrompts, flow_moves_prompts
from prompting.deep_prompt_model import DeepTextPrompts
from prompting.image_encoder import PromptedImageEncoder
from prompting.prompted_clip import PromptedCLIP, consistency_loss, normalize
from prompting.templates import ENSEMBLE_TEMPLATES
from prompting.text_encoder import TextEncoder
from run.user_errors import ConfigError, ModelOptionError

from .prompt_trainer import PromptTrainer, check_ctx_init, check_prompt_depths_fit


class HiCroPLModel(PromptedCLIP):
    """Prompted features fused with frozen CLIP's: ``normalize(normalize(f) + f_frozen)`` for
    the text (``f_frozen``: averaged description features) and the image (the unprompted
    encoder's features); cross-entropy plus ``weight`` times both consistency terms."""

    learnable: CrossModalPrompts

    def __init__(
        self,
        clip_model,
        learnable: CrossModalPrompts,
        frozen_text_features,
        distillation_weight,
        checkpoint_text_blocks=False,
    ):
        super().__init__(clip_model)
        self.learnable = learnable
        self.distillation_weight = distillation_weight
        self.text_encoder = TextEncoder(clip_model, checkpoint_blocks=checkpoint_text_blocks)
        self.prompted_image_encoder = PromptedImageEncoder(clip_model, method="HiCroPL")
        # rebuilt for whichever classes the model is evaluated on
        self.register_buffer("frozen_text_features", frozen_text_features, persistent=False)
        # In place, every forward pass moves the prompts (as the authors' evaluation does):
        # nothing may be cached.
        self.text_depends_on_image = flow_moves_prompts(learnable.flow)
        self.forward_moves_learnable = flow_moves_prompts(learnable.flow)

    def text_features_of(self, text_prompts):
        learner = self.learnable.text.prompt_learner  # its ctx is text_prompts[0]
        prompted = self.text_encoder(learner(), learner.tokenized_prompts, text_prompts[1:])
        frozen = self.frozen_text_features.type(prompted.dtype)  # half under fp16, as the authors'
        return normalize(normalize(prompted) + frozen)  # [n_cls, E]

    def frozen_image_features(self, image):
        with torch.no_grad():
            return normalize(self.image_encoder(image.type(self.dtype)))  # [B, E]

    def image_features_of(self, image, visual_prompts, frozen):
        prompted = self.prompted_image_encoder(image, visual_prompts[0], visual_prompts[1:])
        return normalize(normalize(prompted) + frozen)  # [B, E]

    def compute_text_features(self):
        return self.text_features_of(self.learnable.prompt_layers()[0])

    def features(self, image):
        """``(image features, text features, frozen image features)`` of one forward pass."""
        text_prompts, visual_prompts = self.learnable.prompt_layers()
        if self._cached_text_features is not None:
            text = self._cached_text_features
        else:
            text = self.text_features_of(text_prompts)
        frozen = self.frozen_image_features(image)
        return self.image_features_of(image, visual_prompts, frozen), text, frozen

    def forward(self, image):
        image_features, text_features, _ = self.features(image)
        return self.logits(image_features, text_features)

    def training_loss(self, image, label):
        image_features, text_features, frozen_image = self.features(image)
        logits = self.logits(image_features, text_features)
        weight = self.distillation_weight
        terms = {
            "ce": F.cross_entropy(logits.float(), label),
            "text": weight * consistency_loss(text_features, self.frozen_text_features),
            "image": weight * consistency_loss(image_features, frozen_image),
        }
        return logits, terms


def check_mapper_heads(clip_model, heads, key):
    for width, encoder in (
        (clip_model.ln_final.weight.shape[0], "text"),
        (clip_model.visual.conv1.out_channels, "image"),
    ):
        if width % heads:
            raise ModelOptionError(
                f"{key} {heads} does not divide the {encoder} width {width} of this CLIP"
            )


@TRAINER_REGISTRY.register()
class HiCroPL(PromptTrainer):
    METHOD_CFG = "HICROPL"
    NEEDS_VIT = True  # visual prompts join the ViT's token sequence
    PUBLISHED_CONFIG = "vit_b16_c2_ep50_batch32_16ctx.yaml"
    AUTHORS_CHECKPOINT_LAYOUT = "cross_modal"
    LOGGED_LOSS_TERMS = ("ce", "text", "image")
    TINY_DEPTH_OPTIONS = ("TRAINER.HICROPL.PROMPT_DEPTH", 2, "TRAINER.HICROPL.CROSS_LAYER", 1)
    PER_IMAGE_OPTIONS = ("TRAINER.HICROPL.FLOW", "differentiable")  # the paper's flow

    @classmethod
    def forward_moves_learnable(cls, cfg):
        return flow_moves_prompts(cfg.TRAINER.HICROPL.FLOW)

    @classmethod
    def config_node(cls):
        node = super().config_node()
        node.N_CTX = 16  # prompt tokens per block, text and vision
        node.CTX_INIT = ""  # its first N_CTX tokens initialise the text context; "" = random
        node.PROMPT_DEPTH = 12  # blocks of each encoder that receive prompt sets
        node.CROSS_LAYER = 6  # k: text -> vision before block k, vision -> text from block k
        node.MAPPER_HEADS = 8  # attention heads of the knowledge proxies and mappers
        node.DISTILLATION_WEIGHT = 12.0  # lambda: weight of both consistency terms
        node.DESCRIPTIONS = ""  # JSON {class: [sentences]}; "" = ENSEMBLE_TEMPLATES per class
        node.FLOW = "in_place"  # in_place (authors' code) or differentiable (paper)
        node.CHECKPOINT_TEXT_BLOCKS = False  # recompute text blocks in backward to save memory
        return node

    def check_cfg(self, cfg):
        super().check_cfg(cfg)
        node = cfg.TRAINER.HICROPL
        check_ctx_init(node.CTX_INIT, node.N_CTX, "TRAINER.HICROPL", "N_CTX")
        if node.PROMPT_DEPTH < 2:
            raise ConfigError(
                f"TRAINER.HICROPL.PROMPT_DEPTH must be >= 2 (one block per flow direction), "
                f"got {node.PROMPT_DEPTH}"
            )
        if not 1 <= node.CROSS_LAYER < node.PROMPT_DEPTH:
            raise ConfigError(
                f"TRAINER.HICROPL.CROSS_LAYER must lie between 1 and PROMPT_DEPTH - 1 = "
                f"{node.PROMPT_DEPTH - 1}, got {node.CROSS_LAYER}"
            )
        if node.MAPPER_HEADS < 1:
            raise ConfigError(f"TRAINER.HICROPL.MAPPER_HEADS must be >= 1, got {node.MAPPER_HEADS}")
        if node.DISTILLATION_WEIGHT < 0:
            raise ConfigError(
                f"TRAINER.HICROPL.DISTILLATION_WEIGHT must be >= 0, got {node.DISTILLATION_WEIGHT}"
            )
        if node.FLOW not in FLOWS:
            raise ConfigError(f'TRAINER.HICROPL.FLOW "{node.FLOW}" is not one of {FLOWS}')
        if node.DESCRIPTIONS and not os.path.isfile(os.path.expanduser(node.DESCRIPTIONS)):
            raise ConfigError(f"TRAINER.HICROPL.DESCRIPTIONS {node.DESCRIPTIONS}: no such file")

    def build_custom_clip(self, classnames, clip_model):
        node = self.method_cfg
        key = "TRAINER.HICROPL.PROMPT_DEPTH"
        check_prompt_depths_fit(clip_model, node.PROMPT_DEPTH, node.PROMPT_DEPTH, key, key)
        check_mapper_heads(clip_model, node.MAPPER_HEADS, "TRAINER.HICROPL.MAPPER_HEADS")
        if node.DESCRIPTIONS:
            descriptions = read_descriptions(
                node.DESCRIPTIONS, classnames, "TRAINER.HICROPL.DESCRIPTIONS"
            )
        else:
            descriptions = template_descriptions(classnames, ENSEMBLE_TEMPLATES)
        text = DeepTextPrompts(classnames, clip_model, node.N_CTX, node.PROMPT_DEPTH, node.CTX_INIT)
        learnable = CrossModalPrompts(
            text, clip_model, node.CROSS_LAYER, node.MAPPER_HEADS, node.FLOW
        )
        return HiCroPLModel(
            clip_model,
            learnable,
            averaged_class_features(clip_model, classnames, descriptions),
            node.DISTILLATION_WEIGHT,
            node.CHECKPOINT_TEXT_BLOCKS,
        )
