"""ImageNet-R (renditions), test only; 200 classes, labelled 0..199 in the sorted order of the
wnid folders present."""

from dassl.data.datasets import DATASET_REGISTRY

from .imagenet_folders import ImageNetVariantDataset


@DATASET_REGISTRY.register()
class ImageNetR(ImageNetVariantDataset):
    dataset_dir = "imagenet-rendition"
    image_dir_name = "imagenet-r"
    layout = """
imagenet-rendition/
|-- imagenet-r/                n01443537/*.jpg, ... (200 wnid folders, README.txt)
|-- classnames.txt             (a copy of imagenet/classnames.txt)
"""
