"""Where a run lives: the config a dataset runs with, the run tag and the run folder of every
protocol. The one owner of these facts: scripts/common.sh asks this file (run as a script, with
the standard library only), tools/sweeps and tools/results import it.

The scripts' layout under the output root ``<OUT>``::

    <OUT>/base2new/{train_base,test_new}/<dataset>/shots_<K>/<TRAINER>/<TAG>/seed<S>
    <OUT>/cross_dataset/train/imagenet/shots_<K>/<TRAINER>/<TAG>/seed<S>
    <OUT>/{cross_dataset,domain_generalization}/test/<dataset>/shots_<K>/<TRAINER>/<TAG>/seed<S>
    <OUT>/few_shot/<dataset>/shots_<K>/<TRAINER>/<TAG>/seed<S>

The published code of CoCoOp, MaPLe and PromptSRC writes the ImageNet training, the transfer
evaluations and few-shot runs elsewhere (``PUBLISHED_*``); the results tools read both layouts.

A dataset is named by its config: ``configs/datasets/<name>.yaml``, or the path of a dataset
yaml file anywhere, whose stem is the name.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

# Datasets the scripts run with a method's LARGE_CFG, where it has one (ImageNet-size data).
LARGE_DATASETS = ("imagenet", "sun397")
# The generated world's datasets (tools/world/) run with configs/trainers/<TRAINER>/world.yaml.
WORLD_PREFIX = "world_"
WORLD_CONFIG = "world"
# The source dataset of cross-dataset transfer and domain generalisation.
SOURCE_DATASET = "imagenet"
# The family's cross-dataset scripts also evaluate on these: they are filed under domain
# generalisation whichever of the two protocols the script names.
IMAGENET_VARIANTS = ("imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r")

# Protocol -> stage -> the folders between the output root and <dataset>.
STAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "base2new": {"train_base": ("base2new", "train_base"), "test_new": ("base2new", "test_new")},
    "cross_dataset": {"train": ("cross_dataset", "train"), "test": ("cross_dataset", "test")},
    "domain_generalization": {"test": ("domain_generalization", "test")},
    "few_shot": {"train": ("few_shot",)},
}
# Stages that train on ImageNet with XD_CFG and the stages that evaluate that model.
TRANSFER_PROTOCOLS = ("cross_dataset", "domain_generalization")

# The published layout (CoCoOp's, MaPLe's and PromptSRC's scripts): the ImageNet training and
# few-shot runs at <OUT>/<dataset>/<TRAINER>/<CFG>_<K>shots/seed<S>, the cross-dataset and
# domain-generalisation evaluations at <OUT>/evaluation/<TRAINER>/<CFG>_<K>shots/<dataset>/seed<S>.
PUBLISHED_EVALUATION = "evaluation"
PUBLISHED_SHOTS_SUFFIX = "shots"


@dataclass(frozen=True)
class MethodConfigs:
    """The configs a method script names (scripts/<method>/*.sh: CFG, LARGE_CFG, XD_CFG)."""

    cfg: str
    large_cfg: str = ""
    xd_cfg: str = ""
    # TRAINER_CONFIG: one config for every dataset and protocol (the family's wrapper scripts)
    override: str = ""


def dataset_name(dataset: str) -> str:
    """The name of a dataset given as a config name or as the path of its yaml file."""
    if dataset.endswith((".yaml", ".yml")):
        return os.path.splitext(os.path.basename(dataset))[0]
    return dataset


def config_for(protocol: str, dataset: str, configs: MethodConfigs) -> str:
    """The trainer config (a name under configs/trainers/<TRAINER>/) a run uses."""
    if configs.override:
        return configs.override
    if protocol in TRANSFER_PROTOCOLS:
        return configs.xd_cfg or configs.cfg
    name = dataset_name(dataset)
    if name.startswith(WORLD_PREFIX):
        return WORLD_CONFIG
    if name in LARGE_DATASETS:
        return configs.large_cfg or configs.cfg
    return configs.cfg


def run_tag(cfg: str, opts: Sequence[str]) -> str:
    """The run folder's name: the config, and for extra yacs options a hash of them, so that a
    test finds the model trained with the same options. KEY VALUE pairs are hashed sorted by key
    (stable: a key given twice keeps its order, the last one wins), so the same options in
    another order name the same folder."""
    if not opts:
        return cfg
    pairs = [(opts[i], opts[i + 1] if i + 1 < len(opts) else "") for i in range(0, len(opts), 2)]
    pairs.sort(key=lambda pair: pair[0].encode())
    text = "".join(f"{key}\n{value}\n" for key, value in pairs)
    return f"{cfg}_opts-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class Run:
    """One script call's run: its config and its folder."""

    config: str
    folder: str


@dataclass(frozen=True)
class MethodRuns:
    """What every run of one method call shares: where, which seed, shots and options."""

    output: str
    trainer: str
    configs: MethodConfigs
    seed: int | str
    shots: int | str = 16
    opts: Sequence[str] = ()

    def run(self, protocol: str, stage: str, dataset: str = SOURCE_DATASET) -> Run:
        """The config and folder of the run on ``dataset`` in ``protocol``'s ``stage`` (the
        cross-dataset training stage runs on ImageNet, whatever ``dataset`` says)."""
        if protocol not in STAGES or stage not in STAGES[protocol]:
            known = ", ".join(f"{p} {s}" for p in STAGES for s in STAGES[p])
            raise ValueError(f"unknown protocol stage {protocol} {stage}; known: {known}")
        if protocol == "cross_dataset" and stage == "train":
            dataset = SOURCE_DATASET
        if protocol in TRANSFER_PROTOCOLS and dataset_name(dataset) in IMAGENET_VARIANTS:
            protocol = "domain_generalization"
        config = config_for(protocol, dataset, self.configs)
        folder = os.path.join(
            os.path.abspath(self.output),
            *STAGES[protocol][stage],
            dataset_name(dataset),
            f"shots_{self.shots}",
            self.trainer,
            run_tag(config, self.opts),
            f"seed{self.seed}",
        )
        return Run(config, folder)

    def model_run(self, protocol: str, dataset: str) -> Run:
        """The training run an evaluation stage loads its model from."""
        if protocol == "base2new":
            return self.run(protocol, "train_base", dataset)
        if protocol in TRANSFER_PROTOCOLS:
            return self.run("cross_dataset", "train")
        raise ValueError(f"{protocol} has no separate training run")


def published_train_dir(output: str, dataset: str, trainer: str, cfg: str, shots: int, seed: int):
    """The published layout's training (ImageNet source, few-shot) run folder."""
    tag = f"{cfg}_{shots}{PUBLISHED_SHOTS_SUFFIX}"
    return os.path.join(output, dataset, trainer, tag, f"seed{seed}")


def published_evaluation_dir(
    output: str, dataset: str, trainer: str, cfg: str, shots: int, seed: int
):
    """The published layout's cross-dataset / domain-generalisation evaluation folder."""
    tag = f"{cfg}_{shots}{PUBLISHED_SHOTS_SUFFIX}"
    return os.path.join(output, PUBLISHED_EVALUATION, trainer, tag, dataset, f"seed{seed}")


def parse_published_tag(tag: str) -> tuple[str, int] | None:
    """``<CFG>_<K>shots`` -> (CFG, K); None for a folder of another layout."""
    head, _, shots = tag.rpartition("_")
    if not head or not shots.endswith(PUBLISHED_SHOTS_SUFFIX):
        return None
    count = shots[: -len(PUBLISHED_SHOTS_SUFFIX)]
    return (head, int(count)) if count.isdigit() else None


def main(argv: Sequence[str]) -> int:
    """scripts/common.sh's entry: prints the run's config, its folder and, for an evaluation
    stage, the folder of the training run it loads, one per line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("output", "trainer", "shots", "cfg"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--large-cfg", default="")
    parser.add_argument("--xd-cfg", default="")
    parser.add_argument("--trainer-config", default="")
    parser.add_argument("protocol", choices=sorted(STAGES))
    parser.add_argument("stage")
    parser.add_argument("dataset")
    parser.add_argument("seed")
    parser.add_argument("opts", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    opts = args.opts[1:] if args.opts[:1] == ["--"] else args.opts
    configs = MethodConfigs(args.cfg, args.large_cfg, args.xd_cfg, args.trainer_config)
    runs = MethodRuns(args.output, args.trainer, configs, args.seed, args.shots, opts)
    this = runs.run(args.protocol, args.stage, args.dataset)
    print(this.config)
    print(this.folder)
    if args.stage in ("test", "test_new"):
        print(runs.model_run(args.protocol, args.dataset).folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
