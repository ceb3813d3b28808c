"""ImageNet: few-shot training images from train/, the val/ set as both val and test (as CoOp).

Reading 1.28M paths is slow, so the full lists are cached in ``preprocessed.pkl`` under the
dataset folder and loaded from there afterwards.
"""

import os

from dassl.data.datasets import DATASET_REGISTRY, DatasetBase

from run.untrusted_files import load_datum_lists

from .imagenet_folders import (
    CLASSNAMES_NOTE,
    read_classnames,
    read_labelled_folders,
    wnid_folder_classes,
)
from .layout import dataset_root, require_dir, require_file
from .splits import load_or_create_fewshot, subsample_classes, write_pickle_atomic


@DATASET_REGISTRY.register()
class ImageNet(DatasetBase):
    dataset_dir = "imagenet"
    layout = """
imagenet/
|-- images/
|   |-- train/                 n01440764/*.JPEG, ... (1,000 wnid folders)
|   |-- val/                   n01440764/*.JPEG, ... (same wnid folders)
|-- classnames.txt
"""

    def __init__(self, cfg):
        self.root = dataset_root(cfg, "ImageNet", self.layout)
        self.dataset_dir = self.require_dir(
            os.path.join(self.root, self.dataset_dir), "dataset folder"
        )
        self.image_dir = os.path.join(self.dataset_dir, "images")
        self.preprocessed = os.path.join(self.dataset_dir, "preprocessed.pkl")
        self.split_fewshot_dir = os.path.join(self.dataset_dir, "split_fewshot")

        if os.path.exists(self.preprocessed):
            print(f"Loading preprocessed ImageNet lists from {self.preprocessed}")
            preprocessed = load_datum_lists(
                self.preprocessed,
                "list of ImageNet images",
                "Delete it: the next run lists the image folders again. ",
            )
            train, test = preprocessed["train"], preprocessed["test"]
        else:
            classnames_path = require_file(
                os.path.join(self.dataset_dir, "classnames.txt"),
                "ImageNet",
                "class-name file",
                self.root,
                self.layout,
                CLASSNAMES_NOTE,
            )
            classnames = read_classnames(classnames_path)
            train = self.read_images("train", classnames, classnames_path)
            test = self.read_images("val", classnames, classnames_path)
            write_pickle_atomic({"train": train, "test": test}, self.preprocessed)

        num_shots = cfg.DATASET.NUM_SHOTS
        if num_shots >= 1:
            train, _ = load_or_create_fewshot(
                self,
                train,
                None,
                num_shots,
                cfg.SEED,
                self.split_fewshot_dir,
                cfg.DATASET.FEWER_SHOTS_POLICY,
            )
        train, test = subsample_classes(train, test, subsample=cfg.DATASET.SUBSAMPLE_CLASSES)
        super().__init__(train_x=train, val=test, test=test)

    def read_images(self, split_name, classnames, classnames_path):
        image_dir = self.require_dir(
            os.path.join(self.image_dir, split_name), f"{split_name} image folder"
        )
        class_folders = wnid_folder_classes(image_dir, classnames, "ImageNet", classnames_path)
        return read_labelled_folders(image_dir, class_folders)

    def require_dir(self, path, what):
        return require_dir(path, "ImageNet", what, self.root, self.layout)
