from .build import DATASET_REGISTRY, build_dataset  # noqa: F401  isort:skip
from .base_dataset import Datum, DatasetBase  # noqa: F401  isort:skip
