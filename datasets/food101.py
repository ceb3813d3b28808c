"""Food-101 with CoOp's fixed split (``split_zhou_Food101.json``)."""

from dassl.data.datasets import DATASET_REGISTRY

from .splits import FixedSplitDataset


@DATASET_REGISTRY.register()
class Food101(FixedSplitDataset):
    dataset_dir = "food-101"
    image_dir_name = "images"
    split_file_name = "split_zhou_Food101.json"
    layout = """
food-101/
|-- images/                    <class>/<id>.jpg, ...
|-- meta/
|-- split_zhou_Food101.json
"""
