"""CoCoOp (Zhou et al., CVPR 2022): CoOp's context shifted per image by a small meta-network."""

from collections import OrderedDict

import torch
import torch.nn as nn
from dassl.engine import TRAINER_REGISTRY

from prompting.context_prompt_model import ContextPromptCLIP
from prompting.prompt_learner import ContextPromptLearner
from prompting.prompted_clip import normalize

from .prompt_trainer import PromptTrainer

# The meta-net's bottleneck: its hidden width is the image feature width divided by this.
META_NET_REDUCTION = 16


class ConditionalPromptLearner(ContextPromptLearner):
    """Shared context plus a meta-net that maps an image feature to a shift of every context token.

    The learnable state is ``ctx`` and ``meta_net.*`` (the names CoCoOp's checkpoints use).
    """

    def __init__(self, classnames, clip_model, n_ctx, ctx_init=""):
        super().__init__(classnames, clip_model, n_ctx, ctx_init)
        image_dim = clip_model.visual.output_dim
        ctx_dim = self.ctx.shape[-1]
        hidden_dim = image_dim // META_NET_REDUCTION
        self.meta_net = nn.Sequential(
            OrderedDict(
                [
                    ("linear1", nn.Linear(image_dim, hidden_dim)),
                    ("relu", nn.ReLU(inplace=True)),
                    ("linear2", nn.Linear(hidden_dim, ctx_dim)),
                ]
            )
        )
        # Trained in the context's dtype (fp32: CLIP's token embedding stays fp32 under PREC fp16).
        self.meta_net.to(self.ctx.dtype)

    # Its context depends on the image, so its forward takes one; the model calls it directly.
    def forward(self, image_features):  # type: ignore[override]
        """Each image's context ``[B, n_ctx, D]`` from its normalised feature ``[B, E]``."""
        shift = self.meta_net(image_features.type(self.ctx.dtype))  # [B, D], shared by all tokens
        return self.ctx.unsqueeze(0) + shift.unsqueeze(1)

    def prompts_for(self, image_context):
        """Prompts ``[n_cls, L, D]`` of every class for one image's context ``[n_ctx, D]``."""
        return self.assemble(image_context.unsqueeze(0).expand(self.n_cls, -1, -1))


class CoCoOpModel(ContextPromptCLIP):
    learnable: ConditionalPromptLearner
    text_depends_on_image = True

    def compute_text_features(self) -> torch.Tensor:
        raise TypeError(
            "CoCoOp's class text features depend on the image: use "
            "text_features_for_images(image_features)"
        )

    def text_features_for_images(self, image_features: torch.Tensor) -> torch.Tensor:
        """Each image's own class text features ``[B, n_cls, E]``, L2-normalised.

        One image at a time: the prompts of a whole test batch for ImageNet's 1000 classes
        would not fit in memory at once.
        """
        learner = self.learnable
        contexts = learner(image_features)  # [B, n_ctx, D]
        return torch.stack(
            [
                normalize(
                    self.text_encoder(learner.prompts_for(context), learner.tokenized_prompts)
                )
                for context in contexts
            ]
        )

    def forward(self, image):
        image_features = self.image_features(image)  # [B, E]
        text_features = self.text_features_for_images(image_features)  # [B, n_cls, E]
        return torch.cat(
            [
                self.logits(feature.unsqueeze(0), features_of_image)
                for feature, features_of_image in zip(image_features, text_features)
            ]
        )  # [B, n_cls]


@TRAINER_REGISTRY.register()
class CoCoOp(PromptTrainer):
    METHOD_CFG = "COCOOP"
    PUBLISHED_CONFIG = "vit_b16_c4_ep10_batch1_ctxv1.yaml"
    # one text-encoder pass per image makes a step n_images times CoOp's: measured when named
    IN_DEFAULT_BENCHMARK = False

    @classmethod
    def config_node(cls):
        node = super().config_node()
        node.N_CTX = 16  # number of context tokens
        node.CTX_INIT = ""  # init phrase; "" = random
        return node

    def build_custom_clip(self, classnames, clip_model):
        method_cfg = self.method_cfg
        learner = ConditionalPromptLearner(
            classnames, clip_model, n_ctx=method_cfg.N_CTX, ctx_init=method_cfg.CTX_INIT
        )
        return CoCoOpModel(clip_model, learner)
