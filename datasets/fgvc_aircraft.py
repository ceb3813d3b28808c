"""FGVC-Aircraft (variant level), split by the dataset's own train/val/test lists.

There is no split_zhou file: ``variants.txt`` gives the 100 class names in label order and
``images_variant_<split>.txt`` has one ``<image id> <variant>`` line per image.
"""

import os

from dassl.data.datasets import DATASET_REGISTRY, Datum

from .layout import check_images_exist, require_file
from .splits import FixedSplitDataset


@DATASET_REGISTRY.register()
class FGVCAircraft(FixedSplitDataset):
    dataset_dir = "fgvc_aircraft"
    image_dir_name = "images"
    layout = """
fgvc_aircraft/                 (the data/ folder of fgvc-aircraft-2013b, renamed)
|-- images/                    0034309.jpg, ...
|-- variants.txt
|-- images_variant_train.txt
|-- images_variant_val.txt
|-- images_variant_test.txt
"""

    def read_splits(self):
        variants_path = self.require("variants.txt")
        with open(variants_path) as file:
            classnames = [line.strip() for line in file if line.strip()]
        label_of = {classname: label for label, classname in enumerate(classnames)}
        return tuple(
            self.read_variant_list(f"images_variant_{split}.txt", label_of)
            for split in ("train", "val", "test")
        )

    def read_variant_list(self, file_name, label_of):
        list_path = self.require(file_name)
        entries = []
        with open(list_path) as file:
            for line in file:
                words = line.strip().split(" ")
                if not words[0]:
                    continue
                # Variant names may contain spaces ("Cessna 172").
                classname = " ".join(words[1:])
                if classname not in label_of:
                    raise ValueError(
                        f"FGVCAircraft: variant {classname!r} in {list_path} is not in variants.txt"
                    )
                impath = os.path.join(self.image_dir, words[0] + ".jpg")
                entries.append((impath, label_of[classname], classname))
        check_images_exist([impath for impath, _, _ in entries], "FGVCAircraft", list_path)
        return [
            Datum(impath=impath, label=label, classname=classname)
            for impath, label, classname in entries
        ]

    def require(self, file_name):
        return require_file(
            os.path.join(self.dataset_dir, file_name),
            "FGVCAircraft",
            "annotation file",
            self.root,
            self.layout,
        )
