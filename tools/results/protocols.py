"""Where each evaluation protocol's runs live under the output root, and which datasets it expects.

Layout written by the scripts (``<OUTPUT>`` defaults to ``output/``)::

    <OUTPUT>/base2new/train_base/<dataset>/shots_<K>/<TRAINER>/<TAG>/seed<S>/   -> Base
    <OUTPUT>/base2new/test_new/<dataset>/shots_<K>/<TRAINER>/<TAG>/seed<S>/     -> New
    <OUTPUT>/cross_dataset/train/imagenet/...       source accuracy
    <OUTPUT>/cross_dataset/test/<target>/...        one row per target dataset
    <OUTPUT>/domain_generalization/test/<target>/... (source from the ImageNet training run)
    <OUTPUT>/few_shot/<dataset>/shots_<K>/...
"""

from dataclasses import dataclass

from run.layout import IMAGENET_VARIANTS, LARGE_DATASETS
from tools.results.log_parsing import TEST_END_SIGNALS, TRAIN_END_SIGNALS

# The 11 datasets of CoOp/CoCoOp in the order papers print them (config names, lowercase).
ELEVEN_DATASETS = (
    "imagenet",
    "caltech101",
    "oxford_pets",
    "stanford_cars",
    "oxford_flowers",
    "food101",
    "fgvc_aircraft",
    "sun397",
    "dtd",
    "eurosat",
    "ucf101",
)
# Datasets the scripts may run with a config of their own (LARGE_CFG): run/layout.py decides.
LARGE_CONFIG_DATASETS = LARGE_DATASETS

DISPLAY_NAMES = {
    "imagenet": "ImageNet",
    "caltech101": "Caltech101",
    "oxford_pets": "OxfordPets",
    "stanford_cars": "StanfordCars",
    "oxford_flowers": "Flowers102",
    "food101": "Food101",
    "fgvc_aircraft": "FGVCAircraft",
    "sun397": "SUN397",
    "dtd": "DTD",
    "eurosat": "EuroSAT",
    "ucf101": "UCF101",
    "imagenetv2": "ImageNetV2",
    "imagenet_sketch": "ImageNet-Sketch",
    "imagenet_a": "ImageNet-A",
    "imagenet_r": "ImageNet-R",
}


def display_name(dataset):
    """Paper spelling of a dataset config name; unknown names are shown as they are."""
    return DISPLAY_NAMES.get(dataset, dataset)


def dataset_sort_key(dataset):
    """Known datasets in paper order, then any others alphabetically."""
    known = ELEVEN_DATASETS + IMAGENET_VARIANTS
    return (known.index(dataset), "") if dataset in known else (len(known), dataset)


@dataclass(frozen=True)
class Stage:
    """One kind of run directory of a protocol."""

    role: str  # "base", "new", "source", "target" or "accuracy"
    # Paths under the output root; the first that exists is used (domain generalisation may
    # reuse the cross-dataset ImageNet training run as its source).
    relative_roots: tuple
    end_signals: tuple  # log lines after which the final test result is printed
    subsample: str = None  # the value result.json must carry in "subsample", if checked


MEAN_HM = "mean of HMs"  # the other convention for the average's HM, shown beside it


@dataclass(frozen=True)
class Protocol:
    name: str
    stages: tuple
    default_datasets: tuple  # every dataset (base2new, few_shot) or the targets (the others)
    source_dataset: str = None  # set for protocols that report a training (source) dataset
    # Column names of the per-dataset numbers, in table order.
    value_columns: tuple = ("Accuracy",)
    primary: str = ""  # the primary column, if not the last value column
    large_config_datasets: tuple = ()  # see LARGE_CONFIG_DATASETS

    def stage(self, role):
        return next(stage for stage in self.stages if stage.role == role)

    @property
    def primary_column(self):
        """The number plotted and compared first: HM for base-to-new, accuracy otherwise."""
        return self.primary or self.value_columns[-1]


PROTOCOLS = {
    "base2new": Protocol(
        name="base2new",
        stages=(
            Stage("base", (("base2new", "train_base"),), TRAIN_END_SIGNALS, subsample="base"),
            Stage("new", (("base2new", "test_new"),), TEST_END_SIGNALS, subsample="new"),
        ),
        default_datasets=ELEVEN_DATASETS,
        value_columns=("Base", "New", "HM", MEAN_HM),
        primary="HM",
        large_config_datasets=LARGE_CONFIG_DATASETS,
    ),
    "cross_dataset": Protocol(
        name="cross_dataset",
        stages=(
            Stage("source", (("cross_dataset", "train"),), TRAIN_END_SIGNALS),
            Stage("target", (("cross_dataset", "test"),), TEST_END_SIGNALS),
        ),
        default_datasets=ELEVEN_DATASETS[1:],
        source_dataset="imagenet",
    ),
    "domain_generalization": Protocol(
        name="domain_generalization",
        stages=(
            Stage(
                "source",
                (("domain_generalization", "train"), ("cross_dataset", "train")),
                TRAIN_END_SIGNALS,
            ),
            Stage("target", (("domain_generalization", "test"),), TEST_END_SIGNALS),
        ),
        default_datasets=IMAGENET_VARIANTS,
        source_dataset="imagenet",
    ),
    "few_shot": Protocol(
        name="few_shot",
        stages=(Stage("accuracy", (("few_shot",),), TRAIN_END_SIGNALS),),
        default_datasets=ELEVEN_DATASETS,
        large_config_datasets=LARGE_CONFIG_DATASETS,
    ),
}
