"""ImageNetV2 (matched frequency), test only; its class folders are named by label, 0..999."""

from dassl.data.datasets import DATASET_REGISTRY

from .imagenet_folders import ImageNetVariantDataset


@DATASET_REGISTRY.register()
class ImageNetV2(ImageNetVariantDataset):
    dataset_dir = "imagenetv2"
    image_dir_name = "imagenetv2-matched-frequency-format-val"
    layout = """
imagenetv2/
|-- imagenetv2-matched-frequency-format-val/   0/*.jpeg, 1/, ..., 999/
|-- classnames.txt                              (a copy of imagenet/classnames.txt)
"""

    def class_folders(self, classnames, classnames_path):
        return [
            (str(label), label, classname) for label, classname in enumerate(classnames.values())
        ]
