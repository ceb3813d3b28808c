"""World shapes at low contrast under heavy pixel noise (generated; see datasets/world.py)."""

from dassl.data.datasets import DATASET_REGISTRY

from .world import WorldDataset


@DATASET_REGISTRY.register()
class WorldNoise(WorldDataset):
    dataset_dir = "world-noise"
    style = "noise"
