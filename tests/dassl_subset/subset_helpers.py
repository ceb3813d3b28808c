"""Small helpers shared by the built-in Dassl subset tests: tiny PNGs and a toy dataset."""

import os

from dassl.data.datasets import DATASET_REGISTRY, DatasetBase, Datum
from PIL import Image

TOY_CLASSES = ["red", "green", "blue"]
TOY_COLORS = {"red": (250, 10, 10), "green": (10, 250, 10), "blue": (10, 10, 250)}


def write_png(path, color=(255, 0, 0), size=(8, 8)):
    """Write a one-colour RGB PNG at ``path`` (a pathlib.Path) and return it as str."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return str(path)


def write_toy_images(root, splits=(("train", 4), ("test", 2))):
    """``root/<split>/<class>/<i>.png``, one colour per class, ``n`` images per class."""
    for split, per_class in splits:
        for classname in TOY_CLASSES:
            for i in range(per_class):
                write_png(root / split / classname / f"{i}.png", TOY_COLORS[classname])


@DATASET_REGISTRY.register(force=True)
class DasslSubsetToyDataset(DatasetBase):
    """Reads ``write_toy_images``' layout under DATASET.ROOT; val only if the folder exists."""

    def __init__(self, cfg):
        def read(split):
            folder = os.path.join(cfg.DATASET.ROOT, split)
            if not os.path.isdir(folder):
                return None
            return [
                Datum(
                    impath=os.path.join(folder, classname, name), label=label, classname=classname
                )
                for label, classname in enumerate(TOY_CLASSES)
                for name in sorted(os.listdir(os.path.join(folder, classname)))
            ]

        super().__init__(train_x=read("train"), val=read("val"), test=read("test"))
