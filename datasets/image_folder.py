"""A user's own dataset, selected by configuration: no Python class to write (docs/own_data.md).

``DATASET.NAME ImageFolder`` reads a folder of class sub-folders, ``ImageCSV`` a CSV file of
``path,class name`` lines; ``DATASET.OWN.PATH`` names it, relative to ``DATASET.ROOT`` or
absolute. The split is drawn once and then fixed (``own_data_split``); few-shot sampling and
base/new are those of every other dataset (``FixedSplitDataset``).
"""

import hashlib
import os

from dassl.data.datasets import DATASET_REGISTRY

from .layout import dataset_root
from .own_data_listing import (
    OwnDataError,
    class_names,
    list_image_csv,
    list_image_folder,
)
from .own_data_split import FEWSHOT_FOLDER, load_or_draw_split
from .splits import FixedSplitDataset, read_split


class OwnDataset(FixedSplitDataset):
    layout = """
<DATASET.OWN.PATH>/             ImageFolder: <class name>/<image>.jpg, ...
<DATASET.OWN.PATH>              ImageCSV: a CSV file of 'path,class name' lines
(relative to DATASET.ROOT, or absolute; see docs/own_data.md)
"""

    def locate_folders(self, cfg):
        name = type(self).__name__
        self.root = dataset_root(cfg, name, self.layout)
        own = cfg.DATASET.OWN
        if not own.PATH:
            raise OwnDataError(
                f"{name} needs DATASET.OWN.PATH: the "
                + ("CSV file" if self.reads_csv else "folder of class sub-folders")
                + " to read, relative to DATASET.ROOT or absolute (docs/own_data.md)."
            )
        self.source_path = os.path.join(self.root, os.path.expanduser(own.PATH))
        self.listing = self.read_listing()
        self.dataset_dir = self.image_dir = self.listing.base_dir
        self.split_fewshot_dir = os.path.join(self.dataset_dir, FEWSHOT_FOLDER)
        classnames_file = own.CLASSNAMES_FILE
        if classnames_file:
            classnames_file = os.path.join(self.root, os.path.expanduser(classnames_file))
        self.class_names = class_names(self.listing.images.values(), classnames_file)
        self.fractions = tuple(own.SPLIT_FRACTIONS)
        self.split_seed = own.SPLIT_SEED
        self.num_shots = cfg.DATASET.NUM_SHOTS

    def read_splits(self):
        name = type(self).__name__
        self.split_path = load_or_draw_split(
            self.listing,
            self.class_names,
            self.split_file_name(),
            self.fractions,
            self.split_seed,
            self.num_shots,
            name,
        )
        return read_split(self.split_path, self.image_dir, name)

    def fewshot_seed(self, cfg):
        # The few-shot lists belong to one split: a split drawn again gets its own cache files.
        with open(self.split_path, "rb") as file:
            digest = hashlib.sha1(file.read()).hexdigest()[:8]
        return f"{cfg.SEED}-split_{digest}"


@DATASET_REGISTRY.register()
class ImageFolder(OwnDataset):
    reads_csv = False

    def read_listing(self):
        return list_image_folder(self.source_path, ignored=(FEWSHOT_FOLDER,))

    def split_file_name(self):
        return f"split_zhou_{os.path.basename(os.path.normpath(self.source_path))}.json"


@DATASET_REGISTRY.register()
class ImageCSV(OwnDataset):
    reads_csv = True

    def read_listing(self):
        return list_image_csv(self.source_path)

    def split_file_name(self):
        stem = os.path.splitext(os.path.basename(self.source_path))[0]
        return f"split_zhou_{stem}.json"
