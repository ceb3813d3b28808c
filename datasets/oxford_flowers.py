"""Oxford Flowers 102 with CoOp's fixed split (``split_zhou_OxfordFlowers.json``)."""

from dassl.data.datasets import DATASET_REGISTRY

from .splits import FixedSplitDataset


@DATASET_REGISTRY.register()
class OxfordFlowers(FixedSplitDataset):
    dataset_dir = "oxford_flowers"
    image_dir_name = "jpg"
    split_file_name = "split_zhou_OxfordFlowers.json"
    layout = """
oxford_flowers/
|-- jpg/                       image_00001.jpg, ...
|-- imagelabels.mat
|-- cat_to_name.json
|-- split_zhou_OxfordFlowers.json
"""
