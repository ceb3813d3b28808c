"""SUN397 with CoOp's fixed split (``split_zhou_SUN397.json``)."""

from dassl.data.datasets import DATASET_REGISTRY

from .splits import FixedSplitDataset


@DATASET_REGISTRY.register()
class SUN397(FixedSplitDataset):
    dataset_dir = "sun397"
    image_dir_name = "SUN397"
    split_file_name = "split_zhou_SUN397.json"
    layout = """
sun397/
|-- SUN397/                    a/abbey/sun_*.jpg, ...
|-- split_zhou_SUN397.json
|-- ClassName.txt, Training_01.txt, Testing_01.txt, ...
"""
