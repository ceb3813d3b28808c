"""World shapes under a warm colour cast on striped backgrounds (generated: datasets/world.py)."""

from dassl.data.datasets import DATASET_REGISTRY

from .world import WorldDataset


@DATASET_REGISTRY.register()
class WorldTint(WorldDataset):
    dataset_dir = "world-tint"
    style = "tint"
