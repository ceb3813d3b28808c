"""SEP: Self-Enhanced Prompt Tuning (Yao et al., arXiv 2405.15549); docs/methods/sep.md.

Text and visual prompt tokens are rebuilt before chosen encoder layers from representative
pre-trained tokens by Token Fusion Modules (``prompting/sep``); the prompted features are
fused with frozen CLIP's, and training adds consistency and prototype-classifier losses.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from dassl.data.data_manager import build_data_loader
from dassl.data.transforms import build_transform
from dassl.engine import TRAINER_REGISTRY

from datasets.robust_reading import RobustDatasetWrapper
from prompting.prompt_learner import ContextPromptLearner
from prompting.prompted_clip import PromptedCLIP, consistency_loss, normalize
from prompting.sep import (
    ATTENTION_AXES,
    SELECTION_MODES,
    SEPImageEncoder,
    SEPTextEncoder,
    image_batch_coupling,
)
from prompting.templates import check_template_table, hand_crafted_prompts
from prompting.text_encoder import encode_prompts_normalized
from run.config_aliases import IGNORED, Alias, family_ctx_init, only_value
from run.user_errors import ConfigError, ModelOptionError, UserError

from .prompt_trainer import PromptTrainer


class SEPLearnable(nn.Module):
    """Every trained tensor of SEP, and nothing else: what is optimised and checkpointed."""

    def __init__(self, prompt_learner, text_fusion, visual_prompts, prototype):
        super().__init__()
        self.prompt_learner = prompt_learner  # text context [n_ctx, Dt]
        self.text_fusion = text_fusion  # one TFM per fusion layer of the text encoder
        self.visual_prompts = visual_prompts  # visual tokens [m, Dv] + the vision TFMs
        self.prototype = prototype  # training-only prototype classifier [n_cls, embed_dim]


class SEPModel(PromptedCLIP):
    learnable: SEPLearnable
    """SEP's model; ``sep_model`` builds it from the config node (options in config.py).

    ``frozen_prompts``: one hand-crafted prompt per class, encoded once by frozen CLIP (g0).
    ``loss_weights``: the weight of each of ``loss_terms``' terms (``ce`` 1).
    ``token_fusion_kwargs``: ``TokenFusion``'s ``hidden_dim``, ``scale_init``,
    ``attention_axis``. The other options are those of the prompt learner and encoders.
    """

    class_bound_keys = ("prototype.weight",)

    def __init__(
        self,
        clip_model,
        classnames,
        frozen_prompts,
        *,
        n_ctx_text,
        n_ctx_vision,
        ctx_init,
        fusion_layers,
        selection_mode,
        token_fusion_kwargs,
        proto_scale,
        loss_weights,
        checkpoint_text_blocks,
    ):
        super().__init__(clip_model)
        self.proto_scale = proto_scale
        self.loss_weights = dict(loss_weights)
        prompt_learner = ContextPromptLearner(
            classnames, clip_model, n_ctx=n_ctx_text, ctx_init=ctx_init
        )
        self.text_encoder = SEPTextEncoder(
            clip_model,
            prompt_learner.n_ctx,
            fusion_layers,
            token_fusion_kwargs,
            gradient_checkpointing=checkpoint_text_blocks,
            skip_padding=True,  # identical features; the blocks stop after the last [EOS]
        )
        self.prompted_image_encoder = SEPImageEncoder(
            clip_model, n_ctx_vision, fusion_layers, selection_mode, token_fusion_kwargs
        )
        self.batch_coupling = self.prompted_image_encoder.batch_coupling
        print(
            f"Token fusion before text blocks {self.text_encoder.fusion_layers} and image "
            f"blocks {self.prompted_image_encoder.fusion_layers}"
        )
        embed_dim = clip_model.visual.output_dim
        prototype = nn.Linear(embed_dim, len(classnames), bias=False)
        self.learnable = SEPLearnable(
            prompt_learner,
            self.text_encoder.fusion_modules,
            self.prompted_image_encoder.visual_prompts,
            prototype,
        )
        self.register_buffer(  # g0: frozen CLIP on the hand-crafted template, [n_cls, embed_dim]
            "text_features_fixed",
            encode_prompts_normalized(clip_model, frozen_prompts),
            persistent=False,
        )

    @property
    def prompt_learner(self):
        return self.learnable.prompt_learner

    def gather_batch_with(self, gather):
        # Text tokens are coupled across classes only, which every process holds.
        self.prompted_image_encoder.gather_batch = gather

    def compute_text_features(self):
        learner = self.prompt_learner
        prompted = normalize(self.text_encoder(learner(), learner.tokenized_prompts))
        return normalize(prompted + self.text_features_fixed)

    def frozen_image_features(self, image):
        """f0: frozen CLIP's normalised image features (no prompts, no gradient)."""
        with torch.no_grad():
            return normalize(self.image_encoder(image.type(self.dtype)))

    def image_features(self, image):
        """(f0, final image features normalize(normalize(f) + f0))."""
        frozen = self.frozen_image_features(image)
        prompted = normalize(self.prompted_image_encoder(image))
        return frozen, normalize(prompted + frozen)

    def forward(self, image):
        _, image_features = self.image_features(image)
        return self.logits(image_features, self.text_features())

    def prototype_logits(self, image_features):
        weights = normalize(self.learnable.prototype.weight)
        return self.proto_scale * normalize(image_features) @ weights.t().type(image_features.dtype)

    def loss_terms(self, image, label):
        """Logits and the four loss terms of docs/methods/sep.md (unweighted), computed in fp32."""
        frozen_image, image_features = self.image_features(image)
        text_features = self.text_features()
        logits = self.logits(image_features, text_features)
        terms = {
            "ce": F.cross_entropy(logits.float(), label),
            "text_consistency": consistency_loss(text_features, self.text_features_fixed),
            "visual_consistency": consistency_loss(frozen_image, image_features),
            "prototype": F.cross_entropy(self.prototype_logits(image_features).float(), label)
            + F.cross_entropy(self.prototype_logits(frozen_image).float(), label),
        }
        return logits, terms

    def training_loss(self, image, label):
        logits, terms = self.loss_terms(image, label)
        return logits, {name: self.loss_weights[name] * term for name, term in terms.items()}

    @torch.no_grad()
    def set_prototypes(self, frozen_features, labels):
        """Prototype i <- normalised mean of class i's normalised frozen image features."""
        n_cls, embed_dim = self.learnable.prototype.weight.shape
        sums = torch.zeros(n_cls, embed_dim, device=frozen_features.device)
        sums.index_add_(0, labels, frozen_features.float())
        counts = torch.bincount(labels, minlength=n_cls)
        missing = (counts == 0).nonzero().flatten().tolist()
        if missing:
            raise UserError(
                f"No training images for classes {missing}: SEP cannot build their prototypes. "
                "Check the dataset's train split."
            )
        prototypes = normalize(sums / counts.unsqueeze(1))
        weight = self.learnable.prototype.weight
        weight.copy_(prototypes.to(weight.dtype))


# The model's keyword arguments that users set through TRAINER.SEP, for its error messages.
OPTION_KEYS = {"fusion_layers": "TRAINER.SEP.FUSION_LAYERS"}


def sep_model(clip_model, classnames, dataset_name, sep_cfg, template=""):
    """``SEPModel`` with the options of a ``TRAINER.SEP`` config node (``template``: the
    dataset's own hand-crafted prompt, ``DATASET.PROMPT_TEMPLATE``)."""
    try:
        return _sep_model(clip_model, classnames, dataset_name, sep_cfg, template)
    except ModelOptionError as error:
        raise error.with_config_key(OPTION_KEYS) from None


def _sep_model(clip_model, classnames, dataset_name, sep_cfg, template):
    return SEPModel(
        clip_model,
        classnames,
        hand_crafted_prompts(dataset_name, classnames, sep_cfg.TEMPLATES, template),
        n_ctx_text=sep_cfg.N_CTX_TEXT,
        n_ctx_vision=sep_cfg.N_CTX_VISION,
        ctx_init=sep_cfg.CTX_INIT,
        fusion_layers=list(sep_cfg.FUSION_LAYERS),
        selection_mode=sep_cfg.SELECTION_MODE,
        token_fusion_kwargs=dict(
            hidden_dim=sep_cfg.TFM_HIDDEN_DIM,
            scale_init=sep_cfg.TFM_SCALE_INIT,
            attention_axis=sep_cfg.ATTENTION_AXIS,
        ),
        proto_scale=sep_cfg.PROTO_SCALE,
        loss_weights=dict(
            ce=1.0,
            text_consistency=sep_cfg.W_TEXT,
            visual_consistency=sep_cfg.W_VISUAL,
            prototype=sep_cfg.W_PROTO,
        ),
        checkpoint_text_blocks=sep_cfg.CHECKPOINT_TEXT_BLOCKS,
    )


# SEP's authors pick the token-fusion blocks by an index into this table (TRAINER.COOP.L_IND);
# index 0 is every block after the first, which is TRAINER.SEP.FUSION_LAYERS () here.
AUTHORS_FUSION_LAYER_TABLE = (
    (),
    (1, 2, 3, 4, 5, 6, 7, 8),
    (5, 6, 7, 8, 9, 10, 11),
    (1, 3, 5, 7, 9, 11),
    (2, 4, 6, 8, 10),
    (3, 6, 9),
    (4, 8, 10),
    (4, 8),
    (4, 10),
    (4, 6),
    (8, 10),
    (2,),
    (6,),
    (1,),
    (3,),
    (5,),
    (7,),
    (9,),
    (10,),
    (11,),
)


def authors_fusion_layers(value, key):
    """The blocks that SEP's authors' layer index ``value`` (TRAINER.COOP.L_IND) names."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f'"{key}" is an index into SEP\'s layer table, got {value!r}.')
    if not 0 <= value < len(AUTHORS_FUSION_LAYER_TABLE):
        raise ConfigError(
            f'"{key}" {value} is not an index of SEP\'s layer table (0..'
            f"{len(AUTHORS_FUSION_LAYER_TABLE) - 1}); give TRAINER.SEP.FUSION_LAYERS as a list."
        )
    return AUTHORS_FUSION_LAYER_TABLE[value]


@TRAINER_REGISTRY.register()
class SEP(PromptTrainer):
    METHOD_CFG = "SEP"
    NEEDS_VIT = True  # visual prompts join the ViT's token sequence
    PUBLISHED_CONFIG = "vit_b16_ep50_batch32.yaml"
    LOGGED_LOSS_TERMS = ("ce", "text_consistency", "visual_consistency", "prototype")
    # the paper's wording: each image attends to and selects from its own tokens
    PER_IMAGE_OPTIONS = (
        "TRAINER.SEP.ATTENTION_AXIS",
        "per_input",
        "TRAINER.SEP.SELECTION_MODE",
        "sample",
    )
    FAMILY_CONFIG_ALIASES = {
        "TRAINER.COOP.N_CTX": Alias("TRAINER.SEP.N_CTX_TEXT"),
        "TRAINER.COOP.N_CTX_V": Alias("TRAINER.SEP.N_CTX_VISION"),
        "TRAINER.COOP.CTX_INIT": Alias("TRAINER.SEP.CTX_INIT", family_ctx_init),
        "TRAINER.COOP.W": Alias("TRAINER.SEP.W_TEXT"),
        "TRAINER.COOP.W_V": Alias("TRAINER.SEP.W_VISUAL"),
        "TRAINER.COOP.L_IND": Alias("TRAINER.SEP.FUSION_LAYERS", authors_fusion_layers),
        "TRAINER.COOP.PREC": Alias("TRAINER.SEP.PREC"),
        "TRAINER.COOP.CSC": Alias(None, only_value(False, "SEP has no class-specific context")),
        "TRAINER.COOP.CLASS_TOKEN_POSITION": Alias(
            None, only_value("end", "SEP puts the class name after its context")
        ),
        "TRAINER.COOP.ALPHA": IGNORED,  # declared by SEP's train.py, read by no trainer
    }

    @classmethod
    def config_node(cls):
        node = super().config_node()
        node.N_CTX_TEXT = 6  # learnable text tokens
        node.N_CTX_VISION = 4  # learnable visual tokens
        node.CTX_INIT = ""  # text init phrase; "" = random (the reference)
        node.FUSION_LAYERS = ()  # blocks preceded by token fusion; () = 1..depth-1
        node.TEMPLATES = "sep_reference"  # frozen-text templates: the authors'; or coop
        node.W_TEXT = 8.0  # textual consistency weight
        node.W_VISUAL = 6.0  # visual consistency weight
        node.W_PROTO = 0.5  # prototype-classifier loss weight
        node.PROTO_SCALE = 10.0  # cosine scale of the prototype classifier
        node.TFM_HIDDEN_DIM = 256  # hidden width of the token-fusion MLP
        node.TFM_SCALE_INIT = 0.75  # initial value of the fusion scales s1, s2
        node.SELECTION_MODE = "batch"  # visual token scoring: batch (reference) or sample
        node.ATTENTION_AXIS = "reference"  # TFM attention: reference or per_input
        node.CHECKPOINT_TEXT_BLOCKS = False  # recompute text blocks in backward
        return node

    def check_cfg(self, cfg):
        super().check_cfg(cfg)
        sep_cfg = cfg.TRAINER.SEP
        check_template_table(sep_cfg.TEMPLATES, "TRAINER.SEP.TEMPLATES")
        if sep_cfg.SELECTION_MODE not in SELECTION_MODES:
            raise ConfigError(
                f'TRAINER.SEP.SELECTION_MODE "{sep_cfg.SELECTION_MODE}" is not one of '
                f"{SELECTION_MODES}"
            )
        if sep_cfg.ATTENTION_AXIS not in ATTENTION_AXES:
            raise ConfigError(
                f'TRAINER.SEP.ATTENTION_AXIS "{sep_cfg.ATTENTION_AXIS}" is not one of '
                f"{ATTENTION_AXES}"
            )

    @classmethod
    def image_batch_coupling(cls, cfg):
        node = cfg.TRAINER.SEP
        return image_batch_coupling(node.SELECTION_MODE, node.ATTENTION_AXIS)

    def build_custom_clip(self, classnames, clip_model):
        return sep_model(
            clip_model,
            classnames,
            self.cfg.DATASET.NAME,
            self.method_cfg,
            self.cfg.DATASET.PROMPT_TEMPLATE,
        )

    def before_train(self):
        # Before resuming, so that a resumed run restores the trained prototypes over these.
        self.initialize_prototypes()
        super().before_train()

    def prototype_loader(self):
        """Every training image once, with the training augmentation (as the reference).

        Not the training loader itself: it drops the last partial batch, which in few-shot runs
        can hold every image of a class.
        """
        cfg = self.cfg
        return build_data_loader(
            cfg,
            sampler_type="SequentialSampler",
            data_source=self.dm.dataset.train_x,
            batch_size=cfg.DATALOADER.TRAIN_X.BATCH_SIZE,
            tfm=build_transform(cfg, is_train=True),
            is_train=False,
            dataset_wrapper=RobustDatasetWrapper,
        )

    @torch.no_grad()
    def initialize_prototypes(self):
        self.set_model_mode("eval")
        features, labels = [], []
        with self.autocast():
            for batch in self.prototype_loader():
                image, label = self.parse_batch_test(batch)
                features.append(self.model.frozen_image_features(image).float())
                labels.append(label)
        self.model.set_prototypes(torch.cat(features), torch.cat(labels))
        print(
            f"Initialised {len(self.dm.dataset.classnames)} class prototypes "
            "from frozen image features"
        )
