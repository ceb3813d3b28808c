"""World shapes drawn as hollow outlines on light paper (generated; see datasets/world.py)."""

from dassl.data.datasets import DATASET_REGISTRY

from .world import WorldDataset


@DATASET_REGISTRY.register()
class WorldOutline(WorldDataset):
    dataset_dir = "world-outline"
    style = "outline"
