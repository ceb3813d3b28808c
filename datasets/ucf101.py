"""UCF101 middle frames with CoOp's fixed split (``split_zhou_UCF101.json``)."""

from dassl.data.datasets import DATASET_REGISTRY

from .splits import FixedSplitDataset


@DATASET_REGISTRY.register()
class UCF101(FixedSplitDataset):
    dataset_dir = "ucf101"
    image_dir_name = "UCF-101-midframes"
    split_file_name = "split_zhou_UCF101.json"
    layout = """
ucf101/
|-- UCF-101-midframes/         Apply_Eye_Makeup/v_ApplyEyeMakeup_g01_c01.jpg, ...
|-- split_zhou_UCF101.json
"""
