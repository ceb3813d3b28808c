"""Checks of a run's inputs that train.py makes before it loads CLIP or reads a dataset.

Each failure is a UserError naming the problem and the fix: an unknown trainer or dataset name
(with the closest known one), a missing dataset root, a backbone that is neither a CLIP name nor
a file (or a ResNet for a ViT-only method), an unknown DATALOADER.CORRUPT_IMAGE_POLICY, and an
evaluation --model-dir / --load-epoch
without the checkpoint to load.
"""

import difflib

from dassl.data.datasets import DATASET_REGISTRY
from dassl.engine import TRAINER_REGISTRY

from datasets.layout import dataset_root
from datasets.robust_reading import check_corrupt_image_policy
from prompting.clip_loading import check_backbone_name, check_vit

from .checkpoints import checkpoint_path
from .user_errors import UnknownNameError


def check_registered(kind, key, how_to_set, name, registry):
    """Raise UnknownNameError unless ``name`` is registered; suggests the closest name."""
    names = sorted(registry.registered_names())
    if name in names:
        return
    known = f"Known {kind}s: {', '.join(names)}."
    if not name:
        raise UnknownNameError(f"No {kind} given ({key} is empty): {how_to_set}. {known}")
    by_lower = {known_name.lower(): known_name for known_name in names}
    close = difflib.get_close_matches(name.lower(), by_lower, n=1, cutoff=0.5)
    guess = f' Did you mean "{by_lower[close[0]]}"?' if close else ""
    raise UnknownNameError(f'{key} "{name}" is not a known {kind}.{guess} {known} ({how_to_set})')


def check_run_inputs(cfg, args):
    check_registered(
        "trainer", "TRAINER.NAME", "set it with --trainer NAME", cfg.TRAINER.NAME, TRAINER_REGISTRY
    )
    check_registered(
        "dataset",
        "DATASET.NAME",
        "pass --dataset-config-file configs/datasets/<dataset>.yaml",
        cfg.DATASET.NAME,
        DATASET_REGISTRY,
    )
    dataset_class = DATASET_REGISTRY.get(cfg.DATASET.NAME)
    dataset_root(cfg, cfg.DATASET.NAME, getattr(dataset_class, "layout", ""))
    check_backbone_name(cfg.MODEL.BACKBONE.NAME)
    trainer_class = TRAINER_REGISTRY.get(cfg.TRAINER.NAME)  # a PromptTrainer: its declarations
    if trainer_class.NEEDS_VIT:
        check_vit(cfg.TRAINER.NAME, backbone_name=cfg.MODEL.BACKBONE.NAME)
    check_corrupt_image_policy(cfg)

    if args.eval_only and args.model_dir and trainer_class.LEARNER_NAME:
        checkpoint_path(args.model_dir, trainer_class.LEARNER_NAME, args.load_epoch)
