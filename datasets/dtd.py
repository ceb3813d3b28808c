"""Describable Textures (DTD) with CoOp's fixed split (``split_zhou_DescribableTextures.json``)."""

from dassl.data.datasets import DATASET_REGISTRY

from .splits import FixedSplitDataset


@DATASET_REGISTRY.register()
class DescribableTextures(FixedSplitDataset):
    dataset_dir = "dtd"
    image_dir_name = "images"
    split_file_name = "split_zhou_DescribableTextures.json"
    layout = """
dtd/
|-- images/                    <texture>/<texture>_0001.jpg, ...
|-- imdb/
|-- labels/
|-- split_zhou_DescribableTextures.json
"""
