"""The project's config: Dassl's defaults plus one node per method and a few dataset keys.

Every default lives here, once; ``setup_cfg`` builds the config train.py runs with.
"""

from dassl.config import get_cfg_default
from yacs.config import CfgNode as CN

from .config_merge import merge_config_file, merge_options


def _coop_style_node(n_ctx, ctx_init=""):
    node = CN()
    node.N_CTX = n_ctx  # number of learnable context tokens
    node.CTX_INIT = ctx_init  # init phrase, e.g. "a photo of a"; "" = random N(0, 0.02)
    node.CSC = False  # class-specific context (one set per class)
    node.CLASS_TOKEN_POSITION = "end"  # end, middle or front
    node.PREC = "fp16"  # fp16 (CLIP in half), fp32 or amp
    node.CHECKPOINT_TEXT_BLOCKS = False  # recompute text blocks in backward to save memory
    return node


def extend_cfg(cfg):
    """Add the keys Dassl does not define (works for the built-in subset and real Dassl)."""
    cfg.DATASET.SUBSAMPLE_CLASSES = "all"  # all, base (first half of labels) or new
    cfg.DATASET.FEWER_SHOTS_POLICY = "error"  # a class with < NUM_SHOTS images: error or warn
    if "EPS" not in cfg.OPTIM:
        cfg.OPTIM.EPS = 1e-8  # Adam epsilon (SEP's configs use 1e-3 with fp16)
    cfg.DATALOADER.CORRUPT_IMAGE_POLICY = "fail"  # unreadable image: fail (name it) or skip
    cfg.TRAIN.RESUME_CHECKPOINT = True  # save every epoch (latest only) so a killed run resumes

    cfg.TRAINER.ZSCLIP = CN()
    cfg.TRAINER.ZSCLIP.PREC = "fp16"

    cfg.TRAINER.COOP = _coop_style_node(n_ctx=16)

    cfg.TRAINER.COCOOP = CN()
    cfg.TRAINER.COCOOP.N_CTX = 16  # number of context tokens
    cfg.TRAINER.COCOOP.CTX_INIT = ""  # init phrase; "" = random
    cfg.TRAINER.COCOOP.PREC = "fp16"  # fp16, fp32 or amp

    cfg.TRAINER.KGCOOP = _coop_style_node(n_ctx=4, ctx_init="a photo of a")
    cfg.TRAINER.KGCOOP.W = 8.0  # weight of the knowledge-guided consistency loss
    cfg.TRAINER.KGCOOP.TEMPLATES = (
        "kgcoop"  # hand-crafted template table: coop, kgcoop, sep_reference
    )

    cfg.TRAINER.SEP = CN()
    cfg.TRAINER.SEP.N_CTX_TEXT = 6  # learnable text tokens
    cfg.TRAINER.SEP.N_CTX_VISION = 4  # learnable visual tokens
    cfg.TRAINER.SEP.CTX_INIT = ""  # text init phrase; "" = random (the reference)
    cfg.TRAINER.SEP.FUSION_LAYERS = ()  # blocks preceded by token fusion; () = 1..depth-1
    cfg.TRAINER.SEP.TEMPLATES = "sep_reference"  # frozen-text templates: the authors'; or coop
    cfg.TRAINER.SEP.W_TEXT = 8.0  # textual consistency weight
    cfg.TRAINER.SEP.W_VISUAL = 6.0  # visual consistency weight
    cfg.TRAINER.SEP.W_PROTO = 0.5  # prototype-classifier loss weight
    cfg.TRAINER.SEP.PROTO_SCALE = 10.0  # cosine scale of the prototype classifier
    cfg.TRAINER.SEP.TFM_HIDDEN_DIM = 256  # hidden width of the token-fusion MLP
    cfg.TRAINER.SEP.TFM_SCALE_INIT = 0.75  # initial value of the fusion scales s1, s2
    cfg.TRAINER.SEP.SELECTION_MODE = "batch"  # visual token scoring: batch (reference) or sample
    cfg.TRAINER.SEP.ATTENTION_AXIS = "reference"  # TFM attention: reference or per_input
    cfg.TRAINER.SEP.PREC = "fp16"  # fp16, fp32 or amp
    cfg.TRAINER.SEP.CHECKPOINT_TEXT_BLOCKS = False  # recompute text blocks in backward
    return cfg


def project_cfg_default():
    return extend_cfg(get_cfg_default())


def _apply_command_line(cfg, args):
    """Command-line flags override the config files, as in CoOp (but ``--seed 0`` counts)."""
    overrides = {
        "DATASET.ROOT": args.root,
        "OUTPUT_DIR": args.output_dir,
        "RESUME": args.resume,
        "DATASET.SOURCE_DOMAINS": args.source_domains,
        "DATASET.TARGET_DOMAINS": args.target_domains,
        "INPUT.TRANSFORMS": args.transforms,
        "TRAINER.NAME": args.trainer,
        "MODEL.BACKBONE.NAME": args.backbone,
        "MODEL.HEAD.NAME": args.head,
    }
    for key, value in overrides.items():
        if value:
            node, leaf = _parent_node(cfg, key)
            node[leaf] = value
    if args.seed is not None:
        cfg.SEED = args.seed


def _parent_node(cfg, dotted_key):
    *parents, leaf = dotted_key.split(".")
    node = cfg
    for name in parents:
        node = node[name]
    return node, leaf


def setup_cfg(args):
    """Defaults <- dataset config <- trainer config <- flags <- options; raises ConfigError."""
    cfg = project_cfg_default()
    if args.dataset_config_file:
        merge_config_file(cfg, args.dataset_config_file)
    if args.config_file:
        merge_config_file(cfg, args.config_file)
    _apply_command_line(cfg, args)
    merge_options(cfg, args.opts)
    cfg.freeze()
    return cfg
