"""EuroSAT (RGB) with CoOp's fixed split (``split_zhou_EuroSAT.json``)."""

from dassl.data.datasets import DATASET_REGISTRY

from .splits import FixedSplitDataset


@DATASET_REGISTRY.register()
class EuroSAT(FixedSplitDataset):
    dataset_dir = "eurosat"
    image_dir_name = "2750"
    split_file_name = "split_zhou_EuroSAT.json"
    layout = """
eurosat/
|-- 2750/                      AnnualCrop/AnnualCrop_1.jpg, ...
|-- split_zhou_EuroSAT.json
"""
    # The split names the land-cover folders with descriptive phrases.
    renamed_classes = {
        "AnnualCrop": "Annual Crop Land",
        "Forest": "Forest",
        "HerbaceousVegetation": "Herbaceous Vegetation Land",
        "Highway": "Highway or Road",
        "Industrial": "Industrial Buildings",
        "Pasture": "Pasture Land",
        "PermanentCrop": "Permanent Crop Land",
        "Residential": "Residential Buildings",
        "River": "River",
        "SeaLake": "Sea or Lake",
    }
