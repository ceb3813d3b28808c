"""ImageNet-Sketch, test only."""

from dassl.data.datasets import DATASET_REGISTRY

from .imagenet_folders import ImageNetVariantDataset


@DATASET_REGISTRY.register()
class ImageNetSketch(ImageNetVariantDataset):
    dataset_dir = "imagenet-sketch"
    image_dir_name = "images"
    layout = """
imagenet-sketch/
|-- images/                    n01440764/*.JPEG, ... (1,000 wnid folders)
|-- classnames.txt             (a copy of imagenet/classnames.txt)
"""
