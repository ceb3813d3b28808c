"""TCP (Yao, Zhang and Xu, CVPR 2024): class-aware tokens from CLIP's hand-crafted class text
features, injected into the text encoder at one block, with KgCoOp's consistency term (see
docs/methods/tcp.md)."""

from dassl.engine import TRAINER_REGISTRY

from prompting.class_aware_prompts import ClassAwarePromptLearner, ClassTokenTextEncoder
from prompting.prompted_clip import PromptedCLIP, normalize
from prompting.template_guidance import TemplateGuided
from prompting.templates import check_template_table, hand_crafted_prompts
from run.user_errors import ConfigError

from .prompt_trainer import PromptTrainer

# The words after the learned context in TCP's class prompts (the authors' code); others "{}.".
# UCF101's is the authors' "a photo of a person doing {}." with its first 4 tokens replaced.
CLASS_TEMPLATES = {
    "OxfordPets": "{}, a type of pet.",
    "OxfordFlowers": "{}, a type of flower.",
    "FGVCAircraft": "{}, a type of aircraft.",
    "DescribableTextures": "{} texture.",
    "StanfordCars": "{}, a type of car",
    "Food101": "{}, a type of food.",
    "UCF101": "person doing {}.",
}


class TCPModel(TemplateGuided, PromptedCLIP):
    """Class text features from the learned context, with class-aware tokens made from the
    frozen hand-crafted features replacing the context before one text block; KgCoOp's loss."""

    learnable: ClassAwarePromptLearner

    def __init__(
        self, clip_model, prompt_learner, template_prompts, block, weight, checkpoint_text_blocks
    ):
        super().__init__(clip_model)
        self.learnable = prompt_learner
        self.text_encoder = ClassTokenTextEncoder(clip_model, block, checkpoint_text_blocks)
        self.register_template_features(clip_model, template_prompts, weight)

    def compute_text_features(self):
        learner = self.learnable
        class_tokens = learner.class_tokens(self.template_text_features)  # [n_cls, n_ctx, D_t]
        return normalize(self.text_encoder(learner(), learner.tokenized_prompts, class_tokens))

    def image_features(self, image):
        return normalize(self.image_encoder(image.type(self.dtype)))

    def forward(self, image):
        return self.logits(self.image_features(image), self.text_features())


@TRAINER_REGISTRY.register()
class TCP(PromptTrainer):
    METHOD_CFG = "TCP"
    PUBLISHED_CONFIG = "vit_b16_ep100_ctxv1.yaml"
    AUTHORS_CHECKPOINT_LAYOUT = "class_aware"
    LOGGED_LOSS_TERMS = ("ce", "kg")
    TINY_DEPTH_OPTIONS = ("TRAINER.TCP.CLASS_TOKEN_DEPTH", 2)

    @classmethod
    def config_node(cls):
        node = super().config_node()  # PREC
        node.N_CTX = 4  # learned context tokens = class-aware tokens per class
        node.CTX_INIT = ""  # init phrase (N_CTX becomes its word count); "" = N(0, 0.02)
        node.CLASS_TOKEN_DEPTH = 9  # class-aware tokens enter before this block (1-based)
        node.W = 8.0  # weight of KgCoOp's consistency term
        node.TEMPLATES = "tcp"  # hand-crafted template table: coop, kgcoop, tcp, ...
        node.CHECKPOINT_TEXT_BLOCKS = False  # recompute text blocks in backward to save memory
        return node

    def check_cfg(self, cfg):
        super().check_cfg(cfg)
        node = cfg.TRAINER.TCP
        if node.N_CTX < 1:
            raise ConfigError(f"TRAINER.TCP.N_CTX must be >= 1, got {node.N_CTX}")
        if node.W < 0:
            raise ConfigError(f"TRAINER.TCP.W must be >= 0, got {node.W}")
        if node.CLASS_TOKEN_DEPTH < 2:
            raise ConfigError(
                "TRAINER.TCP.CLASS_TOKEN_DEPTH must be >= 2 (before block 1 the class-aware "
                f"tokens would replace the learned context itself), got {node.CLASS_TOKEN_DEPTH}"
            )
        check_template_table(node.TEMPLATES, "TRAINER.TCP.TEMPLATES")

    def build_custom_clip(self, classnames, clip_model):
        node = self.method_cfg
        dataset = self.cfg.DATASET.NAME
        learner = ClassAwarePromptLearner(
            classnames,
            clip_model,
            n_ctx=node.N_CTX,
            ctx_init=node.CTX_INIT,
            class_template=CLASS_TEMPLATES.get(dataset, "{}."),
        )
        prompts = hand_crafted_prompts(dataset, classnames, node.TEMPLATES)
        return TCPModel(
            clip_model,
            learner,
            prompts,
            block=node.CLASS_TOKEN_DEPTH - 1,
            weight=node.W,
            checkpoint_text_blocks=node.CHECKPOINT_TEXT_BLOCKS,
        )
