"""ImageNet-A (natural adversarial examples), test only; 200 classes, labelled 0..199 in the
sorted order of the wnid folders present."""

from dassl.data.datasets import DATASET_REGISTRY

from .imagenet_folders import ImageNetVariantDataset


@DATASET_REGISTRY.register()
class ImageNetA(ImageNetVariantDataset):
    dataset_dir = "imagenet-adversarial"
    image_dir_name = "imagenet-a"
    layout = """
imagenet-adversarial/
|-- imagenet-a/                n01498041/*.jpg, ... (200 wnid folders, README.txt)
|-- classnames.txt             (a copy of imagenet/classnames.txt)
"""
