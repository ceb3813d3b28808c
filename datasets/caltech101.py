"""Caltech101 with CoOp's fixed split (``split_zhou_Caltech101.json``)."""

from dassl.data.datasets import DATASET_REGISTRY

from .splits import FixedSplitDataset


@DATASET_REGISTRY.register()
class Caltech101(FixedSplitDataset):
    dataset_dir = "caltech-101"
    image_dir_name = "101_ObjectCategories"
    split_file_name = "split_zhou_Caltech101.json"
    layout = """
caltech-101/
|-- 101_ObjectCategories/      <folder>/image_0001.jpg, ...
|-- split_zhou_Caltech101.json
"""
    # The split leaves out the background and duplicate-face folders and uses singular names.
    ignored_folders = ("BACKGROUND_Google", "Faces_easy")
    renamed_classes = {
        "airplanes": "airplane",
        "Faces": "face",
        "Leopards": "leopard",
        "Motorbikes": "motorbike",
    }
