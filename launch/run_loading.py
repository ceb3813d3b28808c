"""A trained run, rebuilt from its folder alone: its config, its model, its learned weights.

A run folder written by train.py holds ``run_options.json`` (every option but the paths),
``classes.json`` (its class names) and the learned module's checkpoints. From these the model is
built exactly as ``train.py --eval-only --model-dir <run>`` builds it, without the dataset, for
the run's own classes or any others (prediction, ``launch.prediction``).
"""

import json
import os

import torch
from dassl.engine import TRAINER_REGISTRY
from yacs.config import CfgNode as CN

from launch.run_checks import check_registered
from run.checkpoints import checkpoint_path, load_learned_state
from run.class_list import read_class_list
from run.config import project_cfg_default
from run.config_merge import merge_config_file, merge_options
from run.result_file import run_settings
from run.run_folder import MODE_KEY, RUN_OPTIONS_FILE
from run.user_errors import ConfigError, UserError

# Options a prediction may set differently from the run: how images are read and batched, where
# the model runs. Every other option decides what the model computes.
PREDICTION_OPTION_PREFIXES = ("DATALOADER.", "USE_CUDA", "TEST.", "OUTPUT_DIR", "DATASET.ROOT")


class NotARunFolder(UserError, FileNotFoundError):
    pass


def read_run_options(run_dir: str) -> dict:
    path = os.path.join(run_dir, RUN_OPTIONS_FILE)
    if not os.path.isdir(run_dir):
        raise NotARunFolder(f"{run_dir} is not a folder: give the --output-dir of a training run.")
    if not os.path.isfile(path):
        raise NotARunFolder(
            f"{run_dir} is not a run folder (no {RUN_OPTIONS_FILE}): give the output folder of a "
            "train.py training run, e.g. output/base2new/train_base/<dataset>/shots_16/<TRAINER>/"
            "<config>/seed1."
        )
    with open(path, encoding="utf-8") as file:
        options = json.load(file)
    if options.get(MODE_KEY) == "evaluation":
        raise NotARunFolder(
            f"{run_dir} is an evaluation (--eval-only) folder and holds no weights: give the "
            "training run it evaluated (its --model-dir)."
        )
    return options


def config_of_run(options: dict):
    """The project config with the run's options (unfrozen)."""
    cfg = project_cfg_default()
    flat = {key: value for key, value in options.items() if key != MODE_KEY}
    known = run_settings(cfg)
    unknown = sorted(set(flat) - set(known))
    if unknown:
        raise ConfigError(
            f"The run was made with options this code does not know ({', '.join(unknown[:3])}): "
            "predict with the version of the repository that trained it."
        )
    nested = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = value
    cfg.merge_from_other_cfg(CN(nested))
    return cfg


def check_config_matches_run(cfg, config_file: str, opts, run_dir: str):
    """Refuse a config (file and options) that gives the model other options than the run's."""
    given = cfg.clone()
    if config_file:
        merge_config_file(given, config_file)
    merge_options(given, list(opts))
    run_values, given_values = run_settings(cfg), run_settings(given)
    differ = [
        key
        for key in sorted(given_values)
        if not key.startswith(PREDICTION_OPTION_PREFIXES) and given_values[key] != run_values[key]
    ]
    if differ:
        key = differ[0]
        raise ConfigError(
            f"The checkpoint in {run_dir} was trained with {key} {run_values[key]!r}, but the "
            f"config given sets {given_values[key]!r}"
            + (f" ({len(differ)} options differ)" if len(differ) > 1 else "")
            + ": leave the config out (the run's own is used), or predict with a run trained "
            "with these options."
        )
    return given


def prediction_trainer(cfg, device: torch.device):
    """The run's trainer class, as a holder of its config and device: it builds the model
    (``load_frozen_clip``, ``build_custom_clip``) and reads no dataset."""
    check_registered(
        "trainer",
        "TRAINER.NAME",
        "the run folder names a method this code does not have",
        cfg.TRAINER.NAME,
        TRAINER_REGISTRY,
    )
    trainer_class = TRAINER_REGISTRY.get(cfg.TRAINER.NAME)
    trainer = trainer_class.__new__(trainer_class)
    trainer.cfg = cfg
    trainer.device = device
    trainer.check_cfg(cfg)
    return trainer


def build_run_model(trainer, classnames, run_dir: str = "", load_epoch=None):
    """The model of ``trainer``'s method for ``classnames``, in eval mode, with the run's learned
    weights (none for a method that trains nothing); returns (model, checkpoint path or "")."""
    clip_model = trainer.load_frozen_clip()
    model = trainer.build_custom_clip(list(classnames), clip_model).to(trainer.device)
    path = ""
    if trainer.LEARNER_NAME:
        if not run_dir:
            raise ConfigError(
                f"{trainer.cfg.TRAINER.NAME} trains a prompt: give its run folder (--run)."
            )
        path = checkpoint_path(run_dir, trainer.LEARNER_NAME, load_epoch)
        load_learned_state(model.learnable, path, class_bound_keys=model.class_bound_keys)
    model.eval()
    return model, path


def run_classnames(run_dir: str):
    names = read_class_list(run_dir)
    if names is None:
        raise NotARunFolder(
            f"{run_dir} records no class names (classes.json; runs made before it was written): "
            "give the classes to choose from with --classes or --classes-file."
        )
    return names
