"""World shapes as the world CLIP saw them in pretraining (generated; see datasets/world.py):
the in-domain dataset, where zero-shot is strong, as real CLIP is on its benchmark domains."""

from dassl.data.datasets import DATASET_REGISTRY

from .world import WorldDataset


@DATASET_REGISTRY.register()
class WorldPhoto(WorldDataset):
    dataset_dir = "world-photo"
    style = "photo"
