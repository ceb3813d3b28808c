"""Stanford Cars with CoOp's fixed split (``split_zhou_StanfordCars.json``).

The split's paths are relative to the dataset folder itself (``cars_train/00001.jpg``).
"""

from dassl.data.datasets import DATASET_REGISTRY

from .splits import FixedSplitDataset


@DATASET_REGISTRY.register()
class StanfordCars(FixedSplitDataset):
    dataset_dir = "stanford_cars"
    image_dir_name = ""
    split_file_name = "split_zhou_StanfordCars.json"
    layout = """
stanford_cars/
|-- cars_train/                00001.jpg, ...
|-- cars_test/
|-- cars_test_annos_withlabels.mat
|-- devkit/
|-- split_zhou_StanfordCars.json
"""
