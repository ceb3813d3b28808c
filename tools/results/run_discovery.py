"""Find run directories: the seeds of one experiment, or every run of a protocol's tree."""

import os
import re
from dataclasses import dataclass

from run import layout

SEED_DIR = re.compile(r"^seed(\d+)$")
SHOTS_DIR = re.compile(r"^shots_(\d+)$")


def _natural_key(name):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _subdirs(directory):
    """Non-hidden subdirectory names of ``directory``, in natural order (seed2 before seed10)."""
    if not os.path.isdir(directory):
        return []
    names = [
        entry.name
        for entry in os.scandir(directory)
        if entry.is_dir() and not entry.name.startswith(".")
    ]
    return sorted(names, key=_natural_key)


def list_run_dirs(directory):
    """Run directories of one experiment: its ``seed*`` subdirectories, else every subdirectory."""
    names = _subdirs(directory)
    seed_names = [name for name in names if SEED_DIR.match(name)]
    return [os.path.join(directory, name) for name in (seed_names or names)]


def list_experiment_dirs(directory):
    """Every subdirectory of a folder of experiments (``parse_test_res.py --multi-exp``)."""
    return [os.path.join(directory, name) for name in _subdirs(directory)]


@dataclass(frozen=True, order=True)
class Experiment:
    """One method configuration: the trainer, its config tag and the number of shots."""

    trainer: str
    tag: str
    shots: int

    @property
    def label(self):
        return f"{self.trainer}/{self.tag}"


@dataclass(frozen=True)
class Method:
    """One method of the table: an experiment and, where the scripts ran the large datasets
    (ImageNet, SUN397) with a config of their own (LARGE_CFG), the experiment of those runs."""

    main: Experiment
    large: Experiment = None
    large_datasets: tuple = ()

    def experiment_for(self, dataset):
        return self.large if self.large and dataset in self.large_datasets else self.main

    @property
    def label(self):
        return self.main.label

    @property
    def trainer(self):
        return self.main.trainer

    @property
    def shots(self):
        return self.main.shots


def _options_suffix(tag):
    """The scripts append ``_opts-<hash>`` of the extra options to the config name."""
    return tag[tag.index("_opts-") :] if "_opts-" in tag else ""


def group_methods(datasets_of, large_datasets):
    """Methods from the experiments found (``datasets_of``: experiment -> its dataset names).

    An experiment that only ran ``large_datasets`` is joined to the one other experiment of the
    same trainer, shots and options that ran none of them: that is the scripts' LARGE_CFG split
    (e.g. SEP's vit_b16_ep10_batch128 for ImageNet and SUN397 beside vit_b16_ep50_batch32).
    Anything less clear-cut stays separate.
    """
    groups = {}
    for experiment in sorted(datasets_of):
        key = (experiment.trainer, experiment.shots, _options_suffix(experiment.tag))
        groups.setdefault(key, []).append(experiment)
    methods = []
    for members in groups.values():
        large_only = [
            experiment
            for experiment in members
            if large_datasets and datasets_of[experiment] <= set(large_datasets)
        ]
        others = [experiment for experiment in members if experiment not in large_only]
        if (
            len(large_only) == 1
            and len(others) == 1
            and not datasets_of[others[0]] & set(large_datasets)
        ):
            methods.append(Method(others[0], large_only[0], tuple(large_datasets)))
        else:
            methods.extend(Method(experiment) for experiment in members)
    return sorted(methods, key=lambda item: (item.trainer.lower(), item.main.tag, item.shots))


@dataclass(frozen=True)
class RunDir:
    dataset: str
    experiment: Experiment
    seed: int
    path: str


def run_dir_path(stage_root, dataset, experiment, seed):
    """Where the scripts put the run of ``seed`` (whether or not it exists)."""
    return os.path.join(
        stage_root,
        dataset,
        f"shots_{experiment.shots}",
        experiment.trainer,
        experiment.tag,
        f"seed{seed}",
    )


def scan_stage(stage_root):
    """Every ``<dataset>/shots_<K>/<TRAINER>/<TAG>/seed<S>`` directory under ``stage_root``.

    Directories that do not fit the layout (no ``shots_`` or ``seed`` level) are skipped.
    """
    runs = []
    for dataset in _subdirs(stage_root):
        dataset_dir = os.path.join(stage_root, dataset)
        for shots_name in _subdirs(dataset_dir):
            shots_match = SHOTS_DIR.match(shots_name)
            if shots_match is None:
                continue
            shots_dir = os.path.join(dataset_dir, shots_name)
            for trainer in _subdirs(shots_dir):
                for tag in _subdirs(os.path.join(shots_dir, trainer)):
                    experiment = Experiment(trainer, tag, int(shots_match.group(1)))
                    tag_dir = os.path.join(shots_dir, trainer, tag)
                    for seed_name in _subdirs(tag_dir):
                        seed_match = SEED_DIR.match(seed_name)
                        if seed_match:
                            runs.append(
                                RunDir(
                                    dataset,
                                    experiment,
                                    int(seed_match.group(1)),
                                    os.path.join(tag_dir, seed_name),
                                )
                            )
    return runs


def find_stage_root(output_root, relative_roots):
    """The first of ``relative_roots`` that exists under ``output_root`` (else the first one)."""
    candidates = [os.path.join(output_root, *parts) for parts in relative_roots]
    return next((path for path in candidates if os.path.isdir(path)), candidates[0])


def _published_seeds(tag_dir, dataset, trainer, tag):
    parsed = layout.parse_published_tag(tag)
    if parsed is None:
        return []
    experiment = Experiment(trainer, parsed[0], parsed[1])
    runs = []
    for seed_name in _subdirs(tag_dir):
        seed_match = SEED_DIR.match(seed_name)
        if seed_match:
            path = os.path.join(tag_dir, seed_name)
            runs.append(RunDir(dataset, experiment, int(seed_match.group(1)), path))
    return runs


def scan_published(output_root, role):
    """Runs of a stage ``role`` in the published layout (CoCoOp's, MaPLe's, PromptSRC's scripts;
    run/layout.py): "target" -- ``evaluation/<TRAINER>/<CFG>_<K>shots/<dataset>/seed<S>``;
    "source" -- the ImageNet training, ``imagenet/<TRAINER>/<CFG>_<K>shots/seed<S>``;
    "accuracy" -- few-shot training, ``<dataset>/<TRAINER>/<CFG>_<K>shots/seed<S>``."""
    runs = []
    if role == "target":
        evaluation = os.path.join(output_root, layout.PUBLISHED_EVALUATION)
        for trainer in _subdirs(evaluation):
            for tag in _subdirs(os.path.join(evaluation, trainer)):
                for dataset in _subdirs(os.path.join(evaluation, trainer, tag)):
                    tag_dir = os.path.join(evaluation, trainer, tag, dataset)
                    runs.extend(_published_seeds(tag_dir, dataset, trainer, tag))
        return runs
    if role == "source":
        datasets = [layout.SOURCE_DATASET]
    elif role == "accuracy":
        ours = {folders[0] for stages in layout.STAGES.values() for folders in stages.values()}
        datasets = [
            name
            for name in _subdirs(output_root)
            if name not in ours and name != layout.PUBLISHED_EVALUATION
        ]
    else:
        return runs
    for dataset in datasets:
        dataset_dir = os.path.join(output_root, dataset)
        for trainer in _subdirs(dataset_dir):
            for tag in _subdirs(os.path.join(dataset_dir, trainer)):
                tag_dir = os.path.join(dataset_dir, trainer, tag)
                runs.extend(_published_seeds(tag_dir, dataset, trainer, tag))
    return runs
