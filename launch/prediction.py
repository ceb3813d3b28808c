"""Classify images with a trained run (or zero-shot CLIP): the top-k classes of each image.

    from launch.prediction import classify
    run = "output/base2new/train_base/world_shapes/shots_16/SEP/world/seed1"
    for answer in classify(["photos/"], run, classnames=["red circle", "blue ring"]):
        print(answer.image, answer.top)   # [("red circle", 0.93), ("blue ring", 0.07)]

(``load_predictor`` keeps the model loaded for several calls.)

Images are read and preprocessed as in evaluation (the run's test transform and precision),
in batches of ``DATALOADER.TEST.BATCH_SIZE``. An image's answer never depends on the other images
of the call: a model whose images are coupled within a batch (``couples_batch_images``; its
``batch_coupling`` says what couples them, e.g. SEP's default reference attention and batch token
selection, and is printed when the model is loaded) is run on each image alone, i.e. with a
batch of one, as docs/own_data.md explains and measures; so is a model whose forward pass moves
its learned tensors (``forward_moves_learnable``: HiCroPL's in-place flow), each image from the
tensors as loaded.
"""

import copy
import glob
import os
from dataclasses import dataclass

import torch
from dassl.data.transforms import build_transform
from dassl.utils import read_image
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from datasets.own_data_listing import is_image_file
from datasets.robust_reading import READ_ERRORS, CorruptImageError, check_corrupt_image_policy
from launch.run_loading import (
    build_run_model,
    check_config_matches_run,
    config_of_run,
    prediction_trainer,
    read_run_options,
    run_classnames,
)
from run.config import project_cfg_default
from run.config_merge import merge_config_file, merge_options
from run.precision import autocast
from run.user_errors import ConfigError, UserError
from trainers.zsclip import ZeroshotCLIP


class NoImages(UserError, FileNotFoundError):
    pass


@dataclass
class Prediction:
    image: str
    top: list  # [(class name, probability), ...], most probable first


def image_paths(inputs) -> list:
    """Image files from files, folders (every image below them, sorted) and glob patterns, in
    the order given, each once."""
    paths = []
    for item in inputs:
        if os.path.isdir(item):
            paths += sorted(
                os.path.join(parent, name)
                for parent, _, names in os.walk(item)
                for name in names
                if is_image_file(name)
            )
        elif os.path.isfile(item):
            paths.append(item)
        else:
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                raise NoImages(f"{item} is no file or folder, and no file matches it as a pattern.")
            paths += [path for path in matches if os.path.isfile(path)]
    unique = list(dict.fromkeys(paths))
    if not unique:
        raise NoImages(f"No image found in {', '.join(map(str, inputs))}.")
    return unique


class ImageFiles(Dataset):
    """Images through the evaluation transform; an unreadable one is an error (policy "fail")
    or an empty item that prediction counts and leaves out (policy "skip")."""

    def __init__(self, paths, transform, policy):
        self.paths = paths
        self.transform = transform
        self.policy = policy

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        path = self.paths[index]
        try:
            return index, self.transform(read_image(path))
        except READ_ERRORS as error:
            if self.policy == "fail":
                raise CorruptImageError(
                    f'Cannot read image "{path}" ({type(error).__name__}: {error}). Replace or '
                    "remove the file, or set DATALOADER.CORRUPT_IMAGE_POLICY skip to leave "
                    "unreadable images out (they are counted)."
                ) from error
            return index, None


def collate_readable(items):
    """(indices, images [B, 3, H, W] or None, number of unreadable items)."""
    readable = [(index, image) for index, image in items if image is not None]
    if not readable:
        return [], None, len(items)
    indices, images = zip(*readable)
    return list(indices), torch.stack(images), len(items) - len(readable)


class Predictor:
    """A method's model for a run (or zero-shot CLIP), ready to classify image files."""

    def __init__(self, trainer, run_dir="", load_epoch=None):
        self.trainer = trainer
        self.cfg = trainer.cfg
        self.run_dir = run_dir
        self.load_epoch = load_epoch
        self._models = {}  # tuple of class names -> model
        self._loaded_state = None  # the learned tensors as loaded, for forward_moves_learnable

    def model_for(self, classnames):
        key = tuple(classnames)
        if key not in self._models:
            self._models = {key: build_run_model(self.trainer, key, self.run_dir, self.load_epoch)}
            model = self._models[key][0]
            if model.couples_batch_images:
                print(
                    "Each image is classified alone (a batch of one), because "
                    f"{'; and '.join(model.batch_coupling)}."
                )
            if model.forward_moves_learnable:
                self._loaded_state = copy.deepcopy(model.learnable.state_dict())
        return self._models[key][0]

    def answer_alone(self, model, image):
        """``[1, n_cls]`` logits of one image, from the loaded tensors where a forward pass
        moves them."""
        if model.forward_moves_learnable:
            model.learnable.load_state_dict(self._loaded_state)
        return model(image[None])

    def classnames_or_own(self, classnames):
        if classnames:
            names = [name.strip() for name in classnames if name.strip()]
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                raise ConfigError(f"Class {duplicates[0]!r} is given twice.")
            return names
        return self.own_classnames

    @property
    def own_classnames(self):
        if not self.run_dir:
            raise ConfigError("Zero-shot CLIP has no classes of its own: give --classes.")
        return run_classnames(self.run_dir)

    @torch.no_grad()
    def logits(self, paths, classnames=None, progress=True):
        """([n readable, n_cls] logits in fp32, indices of the readable paths, unreadable count)."""
        classnames = self.classnames_or_own(classnames)
        model = self.model_for(classnames)
        cfg, device = self.cfg, self.trainer.device
        policy = check_corrupt_image_policy(cfg)
        loader = DataLoader(
            ImageFiles(paths, build_transform(cfg, is_train=False), policy),
            batch_size=cfg.DATALOADER.TEST.BATCH_SIZE,
            num_workers=cfg.DATALOADER.NUM_WORKERS,
            collate_fn=collate_readable,
        )
        outputs, kept, unreadable = [], [], 0
        with autocast(self.trainer.precision, device), model.cached_text_features():
            for indices, images, skipped in tqdm(loader, disable=not progress, unit="batch"):
                unreadable += skipped
                if images is None:
                    continue
                images = images.to(device)
                if model.couples_batch_images or model.forward_moves_learnable:
                    # each image alone: its answer is its own
                    batch_logits = torch.cat([self.answer_alone(model, image) for image in images])
                else:
                    batch_logits = model(images)
                outputs.append(batch_logits.float().cpu())
                kept += indices
        n_cls = len(classnames)
        logits = torch.cat(outputs) if outputs else torch.empty(0, n_cls)
        return logits, kept, unreadable

    def predict(self, inputs, classnames=None, top_k=5, progress=True):
        """(list of Prediction, unreadable count) for image files, folders or glob patterns."""
        if top_k < 1:
            raise ConfigError(f"--top-k must be at least 1, got {top_k}.")
        paths = image_paths(inputs)
        classnames = self.classnames_or_own(classnames)
        logits, kept, unreadable = self.logits(paths, classnames, progress)
        probabilities = logits.softmax(dim=-1)
        k = min(top_k, len(classnames))
        values, indices = probabilities.topk(k, dim=-1)
        answers = [
            Prediction(
                paths[index],
                [(classnames[c], p) for c, p in zip(row_indices.tolist(), row_values.tolist())],
            )
            for index, row_values, row_indices in zip(kept, values, indices)
        ]
        return answers, unreadable


def load_predictor(
    run_dir="",
    *,
    config_file="",
    opts=(),
    device=None,
    load_epoch=None,
) -> Predictor:
    """A Predictor for ``run_dir`` (a training run's folder), or, without one, for zero-shot
    CLIP as ``config_file`` and ``opts`` describe it (e.g. ``MODEL.BACKBONE.NAME``).

    With a run, ``config_file`` and ``opts`` may only set how images are read and where the
    model runs (``DATALOADER.*``, ``USE_CUDA``); any option that changes the model is refused.
    """
    if run_dir:
        cfg = config_of_run(read_run_options(run_dir))
        cfg = check_config_matches_run(cfg, config_file, opts, run_dir)
    else:
        cfg = project_cfg_default()
        cfg.TRAINER.NAME = ZeroshotCLIP.__name__
        if config_file:
            merge_config_file(cfg, config_file)
        merge_options(cfg, list(opts))
    cfg.freeze()
    if device is None:
        use_cuda = torch.cuda.is_available() and cfg.USE_CUDA
        device = torch.device("cuda" if use_cuda else "cpu")
    trainer = prediction_trainer(cfg, torch.device(device))
    if not run_dir and trainer.LEARNER_NAME:
        raise ConfigError(f"{cfg.TRAINER.NAME} trains a prompt: give its run folder (--run).")
    return Predictor(trainer, run_dir, load_epoch)


def classify(images, run_dir="", classnames=None, top_k=5, **options) -> list:
    """The Predictions for ``images`` (files, folders, glob patterns) by the run in ``run_dir``
    (zero-shot CLIP without one: give ``config_file``/``opts``); ``options``: those of
    ``load_predictor``. Unreadable images are an error unless the config's policy skips them."""
    answers, _ = load_predictor(run_dir, **options).predict(images, classnames, top_k)
    return answers
