"""Oxford-IIIT Pets with CoOp's fixed split (``split_zhou_OxfordPets.json``)."""

from dassl.data.datasets import DATASET_REGISTRY

from .splits import FixedSplitDataset


@DATASET_REGISTRY.register()
class OxfordPets(FixedSplitDataset):
    dataset_dir = "oxford_pets"
    image_dir_name = "images"
    split_file_name = "split_zhou_OxfordPets.json"
    layout = """
oxford_pets/
|-- images/                    Abyssinian_1.jpg, ...
|-- annotations/
|-- split_zhou_OxfordPets.json
"""
