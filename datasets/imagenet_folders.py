"""ImageNet-style reading: CoOp's classnames.txt and one image folder per class.

``classnames.txt`` has one ``<wnid> <class name>`` line per ImageNet class, in label order (CoOp
ships it with ImageNet and asks to copy it next to every ImageNet variant). Class folders are
labelled by their sorted order; for ImageNet-A and -R, which hold 200 of the 1000 classes, that is
the order of the wnid folders present.
"""

import os
from collections import OrderedDict

from dassl.data.datasets import DatasetBase, Datum
from dassl.utils import listdir_nohidden

from .layout import DatasetLayoutError, dataset_root, layout_error, require_dir, require_file

CLASSNAMES_NOTE = "classnames.txt comes with ImageNet (link in DATASETS.md); copy it here."


def read_classnames(path):
    """OrderedDict of wnid -> class name, in the file's order."""
    classnames = OrderedDict()
    with open(path) as file:
        for line in file:
            words = line.strip().split(" ")
            if words[0]:
                classnames[words[0]] = " ".join(words[1:])
    return classnames


def list_class_folders(image_dir):
    """Sorted names of the non-hidden sub-folders (files such as README.txt are skipped)."""
    return [
        name
        for name in listdir_nohidden(image_dir, sort=True)
        if os.path.isdir(os.path.join(image_dir, name))
    ]


def wnid_folder_classes(image_dir, classnames, dataset_name, classnames_path):
    """[(folder, label, class name)] for the wnid folders in image_dir, labelled in sorted order."""
    folders = list_class_folders(image_dir)
    if not folders:
        raise DatasetLayoutError(f"{dataset_name}: no class folders in {image_dir}", image_dir)
    unknown = [folder for folder in folders if folder not in classnames]
    if unknown:
        raise ValueError(
            f"{dataset_name}: {len(unknown)} folders in {image_dir} are not wnids listed in "
            f"{classnames_path}, e.g. {unknown[:5]}"
        )
    return [(folder, label, classnames[folder]) for label, folder in enumerate(folders)]


def read_labelled_folders(image_dir, class_folders):
    """Datum list for [(folder, label, class name)], images of a folder in sorted order."""
    items = []
    for folder, label, classname in class_folders:
        folder_path = os.path.join(image_dir, folder)
        for imname in listdir_nohidden(folder_path, sort=True):
            impath = os.path.join(folder_path, imname)
            if os.path.isfile(impath):
                items.append(Datum(impath=impath, label=label, classname=classname))
    return items


class ImageNetVariantDataset(DatasetBase):
    """A test-only ImageNet variant: all its images are both train_x and test, as in CoOp.

    Few-shot and base/new settings do not apply (CoOp evaluates these on all their classes).
    """

    dataset_dir = ""  # folder under DATASET.ROOT
    image_dir_name = ""  # folder of class folders inside it
    layout = ""  # folder tree shown in the errors

    def __init__(self, cfg):
        name = type(self).__name__
        root = dataset_root(cfg, name, self.layout)
        self.dataset_dir = require_dir(
            os.path.join(root, self.dataset_dir), name, "dataset folder", root, self.layout
        )
        self.image_dir = require_dir(
            os.path.join(self.dataset_dir, self.image_dir_name),
            name,
            "image folder",
            root,
            self.layout,
        )
        classnames_path = require_file(
            os.path.join(self.dataset_dir, "classnames.txt"),
            name,
            "class-name file",
            root,
            self.layout,
            CLASSNAMES_NOTE,
        )

        class_folders = self.class_folders(read_classnames(classnames_path), classnames_path)
        missing = [
            folder
            for folder, _, _ in class_folders
            if not os.path.isdir(os.path.join(self.image_dir, folder))
        ]
        if missing:
            raise layout_error(
                name,
                f"{len(missing)} of {len(class_folders)} class folders, e.g.",
                os.path.join(self.image_dir, missing[0]),
                root,
                self.layout,
            )
        data = read_labelled_folders(self.image_dir, class_folders)
        super().__init__(train_x=data, test=data)

    def class_folders(self, classnames, classnames_path):
        return wnid_folder_classes(self.image_dir, classnames, type(self).__name__, classnames_path)
