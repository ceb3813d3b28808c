"""Checks of a run's inputs that train.py makes before it loads CLIP or reads a dataset.

Above run/ (the ground floor), since they ask the datasets and the model pieces.

Each failure is a UserError naming the problem and the fix: an unknown trainer or dataset name
(with the closest known one), a missing dataset root, a backbone that is neither a CLIP name nor
a file (or a ResNet for a ViT-only method), an unknown DATALOADER.CORRUPT_IMAGE_POLICY, an
evaluation --model-dir / --load-epoch without the checkpoint to load, and values that would make a
run train or evaluate nothing, or something else than asked (``check_values``).
"""

import difflib

from dassl.data.datasets import DATASET_REGISTRY
from dassl.engine import TRAINER_REGISTRY

from datasets.layout import dataset_root
from datasets.robust_reading import check_corrupt_image_policy
from prompting.clip_loading import check_backbone_name, check_vit
from run.checkpoints import checkpoint_path
from run.run_folder import check_not_a_training_folder
from run.user_errors import ConfigError, UnknownNameError


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


# The names both the built-in subset and Dassl.pytorch accept.
OPTIMIZERS = ("adam", "amsgrad", "sgd", "rmsprop", "radam", "adamw")
LR_SCHEDULERS = ("single_step", "multi_step", "cosine")
WARMUP_TYPES = ("constant", "linear")
TEST_SPLITS = ("val", "test")
UNSET_SEED = -1  # Dassl's "no fixed seed"
MAX_SEED = 2**32 - 1  # numpy's np.random.seed takes seeds up to this
ALL_IMAGES = -1  # Dassl's DATASET.NUM_SHOTS for "every training image"


def check_choice(key, value, choices):
    if value in choices:
        return
    close = difflib.get_close_matches(str(value).lower(), choices, n=1, cutoff=0.5)
    guess = f' Did you mean "{close[0]}"?' if close else ""
    raise ConfigError(f'{key} "{value}" is not one of {", ".join(choices)}.{guess}')


def check_at_least(key, value, minimum, fix):
    if value < minimum:
        raise ConfigError(f"{key} is {value}; it must be at least {minimum}. {fix}")


def check_values(cfg, args, learner_name):
    """Refuse values with which a run would do nothing, or not what was asked."""
    if args.eval_only and not args.model_dir and learner_name:
        raise ConfigError(
            f"--eval-only needs --model-dir: {cfg.TRAINER.NAME} would evaluate its untrained "
            "initial prompt. Pass --model-dir <the training run's output folder>."
        )
    if args.load_epoch is not None:
        check_at_least("--load-epoch", args.load_epoch, 1, "Epochs are counted from 1.")
    if (cfg.SEED < 0 and cfg.SEED != UNSET_SEED) or cfg.SEED > MAX_SEED:
        raise ConfigError(
            f"SEED (--seed) is {cfg.SEED}: use a seed in 0..{MAX_SEED}, or {UNSET_SEED} for no "
            "fixed seed."
        )
    shots = cfg.DATASET.NUM_SHOTS
    if shots < 1 and shots != ALL_IMAGES:
        raise ConfigError(
            f"DATASET.NUM_SHOTS (SHOTS in the scripts) is {shots}: use the number of training "
            f"images per class (>= 1), or {ALL_IMAGES} for every training image."
        )
    check_at_least(
        "DATALOADER.TEST.BATCH_SIZE", cfg.DATALOADER.TEST.BATCH_SIZE, 1, "Set a batch size >= 1."
    )
    check_at_least("DATALOADER.NUM_WORKERS", cfg.DATALOADER.NUM_WORKERS, 0, "0 reads in-process.")
    check_choice("TEST.SPLIT", cfg.TEST.SPLIT, TEST_SPLITS)
    if args.eval_only or args.no_train:
        return
    optim = cfg.OPTIM
    check_at_least("OPTIM.MAX_EPOCH", optim.MAX_EPOCH, 1, "A run with no epoch trains nothing.")
    check_at_least(
        "DATALOADER.TRAIN_X.BATCH_SIZE",
        cfg.DATALOADER.TRAIN_X.BATCH_SIZE,
        1,
        "Set the number of images per training batch.",
    )
    if not optim.LR > 0:
        raise ConfigError(f"OPTIM.LR is {optim.LR}; the learning rate must be > 0.")
    for key in ("WEIGHT_DECAY", "MOMENTUM"):
        check_at_least(f"OPTIM.{key}", optim[key], 0, "Negative values have no meaning.")
    check_choice("OPTIM.NAME", optim.NAME, OPTIMIZERS)
    check_choice("OPTIM.LR_SCHEDULER", optim.LR_SCHEDULER, LR_SCHEDULERS)
    if optim.WARMUP_EPOCH > 0:
        check_choice("OPTIM.WARMUP_TYPE", optim.WARMUP_TYPE, WARMUP_TYPES)
    if optim.WARMUP_EPOCH > optim.MAX_EPOCH:
        raise ConfigError(
            f"OPTIM.WARMUP_EPOCH is {optim.WARMUP_EPOCH}, longer than the run (OPTIM.MAX_EPOCH "
            f"{optim.MAX_EPOCH}): the learning-rate schedule would never start. Lower "
            "OPTIM.WARMUP_EPOCH (0 for none) or raise OPTIM.MAX_EPOCH."
        )


def model_names(cfg):
    """The checkpoint folders a run of cfg's trainer writes (none if it trains nothing)."""
    learner_name = TRAINER_REGISTRY.get(cfg.TRAINER.NAME).LEARNER_NAME
    return [learner_name] if learner_name else []


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

    learner_name = trainer_class.LEARNER_NAME
    check_values(cfg, args, learner_name)
    if args.eval_only:
        check_not_a_training_folder(cfg.OUTPUT_DIR, args.model_dir, model_names(cfg))
    if args.eval_only and args.model_dir and learner_name:
        checkpoint_path(args.model_dir, learner_name, args.load_epoch)
