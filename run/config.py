"""The project's config: Dassl's defaults, a few dataset and run keys, one node per method.

The run keys' defaults live here; each method's node is declared by its trainer
(``PromptTrainer.config_node``) and registered here. ``setup_cfg`` builds the config train.py
runs with.
"""

from dassl.config import get_cfg_default
from yacs.config import CfgNode as CN

from .config_merge import merge_config_file, merge_options

# Config node name -> function returning that method's default node; filled by
# ``register_method_node`` (the trainers package registers each trainer's ``config_node``).
METHOD_NODES = {}


def register_method_node(name, build_node):
    """Add ``cfg.TRAINER.<name>``, as ``build_node()`` returns it, to every project config."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"A method config node needs a name (the METHOD_CFG); got {name!r}")
    if name in METHOD_NODES and METHOD_NODES[name] != build_node:
        raise ValueError(f"Two config nodes registered as TRAINER.{name}")
    METHOD_NODES[name] = build_node


def extend_cfg(cfg):
    """Add the keys Dassl does not define (works for the built-in subset and real Dassl)."""
    cfg.DATASET.SUBSAMPLE_CLASSES = "all"  # all, base (first half of labels) or new
    cfg.DATASET.FEWER_SHOTS_POLICY = "error"  # a class with < NUM_SHOTS images: error or warn
    cfg.DATASET.PROMPT_TEMPLATE = ""  # hand-crafted prompt, e.g. "a photo of a {}."; "" = table's
    cfg.DATASET.OWN = CN()  # a user's own dataset (DATASET.NAME ImageFolder or ImageCSV)
    cfg.DATASET.OWN.PATH = ""  # its folder of class sub-folders or CSV, under DATASET.ROOT
    cfg.DATASET.OWN.CLASSNAMES_FILE = ""  # optional "<folder or CSV class> <class name>" lines
    cfg.DATASET.OWN.SPLIT_FRACTIONS = (0.5, 0.2, 0.3)  # train/val/test per class (CoOp's own)
    cfg.DATASET.OWN.SPLIT_SEED = 1  # shuffles each class before the split is cut
    if "EPS" not in cfg.OPTIM:
        cfg.OPTIM.EPS = 1e-8  # Adam epsilon (SEP's configs use 1e-3 with fp16)
    cfg.DATALOADER.CORRUPT_IMAGE_POLICY = "fail"  # unreadable image: fail (name it) or skip
    cfg.TRAIN.RESUME_CHECKPOINT = True  # save every epoch (latest only) so a killed run resumes

    if not METHOD_NODES:
        raise RuntimeError(
            "No method config nodes are registered: import trainers (it registers every "
            "trainer's config_node) before building a config"
        )
    for name, build_node in METHOD_NODES.items():
        cfg.TRAINER[name] = build_node()
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


def setup_cfg(args, notes=None):
    """Defaults <- dataset config <- trainer config <- flags <- options; raises ConfigError.

    The family's option names are read for ``args.trainer`` (the FAMILY_CONFIG_ALIASES it
    registered, run/config_aliases.py); a line per rewrite is appended to ``notes``, for the
    run's log."""
    cfg = project_cfg_default()
    trainer = getattr(args, "trainer", None)
    if args.dataset_config_file:
        merge_config_file(cfg, args.dataset_config_file, trainer, notes)
    if args.config_file:
        merge_config_file(cfg, args.config_file, trainer, notes)
    _apply_command_line(cfg, args)
    merge_options(cfg, args.opts, trainer, notes)
    cfg.freeze()
    return cfg
