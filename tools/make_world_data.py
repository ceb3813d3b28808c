"""Write the world's downstream datasets in the CoOp layout, one per domain shift.

    python tools/make_world_data.py --root $DATA

writes, for every dataset in datasets/world_*.py (WorldPhoto: the pretraining domain;
WorldOutline, WorldNoise, WorldTint: shifted domains),
    $DATA/<world-...>/images/<colour_shape>/0001.png, ...
    $DATA/<world-...>/split_zhou_<Name>.json   (train/val/test, CoOp's split format)
Each dataset holds its own 16 of the world's 48 colour-shape classes (base: the first 8 labels,
new: the rest), rendered in its own style. The output depends only on the seed and the world's
code; a dataset already written by the same code and seed is left as it is.
"""

import json
import os
import sys
import zlib

import numpy as np
import torch
from PIL import Image

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import datasets  # noqa: E402,F401  (registers the world datasets)
from datasets.world import WorldDataset  # noqa: E402
from run.atomic_files import write_text_atomic  # noqa: E402
from run.tool_cli import (  # noqa: E402
    ToolArgumentParser,
    check_seed,
    check_writable_folder,
    refuse,
    reports_user_errors,
)
from tools.world import vocabulary  # noqa: E402
from tools.world.build_files import source_digest  # noqa: E402
from tools.world.render import render  # noqa: E402

NUM_CLASSES = 16
# images per class; 100 test images: one image is 0.125 points of a split's 800
SPLIT_SIZES = {"train": 20, "val": 5, "test": 100}
STAMP_FILE = "world_stamp.json"


def world_datasets():
    return sorted(WorldDataset.__subclasses__(), key=lambda cls: cls.__name__)


def dataset_classes(name, seed):
    """The dataset's classes (indices into vocabulary.class_names()), in label order."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(name.encode()))
    order = torch.randperm(len(vocabulary.class_names()), generator=generator)
    return order[:NUM_CLASSES].tolist()


def write_world_dataset(dataset_cls, root, seed=0, image_size=32):
    """Render and write one dataset; returns its folder."""
    name = dataset_cls.__name__
    folder = os.path.join(root, dataset_cls.dataset_dir)
    stamp = {"digest": source_digest(), "seed": seed, "image_size": image_size}
    stamp_path = os.path.join(folder, STAMP_FILE)
    if os.path.isfile(stamp_path):
        with open(stamp_path) as file:
            if json.load(file) == stamp:
                return folder

    classes = dataset_classes(name, seed)
    per_class = sum(SPLIT_SIZES.values())
    labels = torch.arange(len(classes)).repeat_interleave(per_class)
    class_ids = torch.tensor(classes)[labels]
    generator = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(name.encode()) + 1)
    sizes = torch.randint(len(vocabulary.SIZES), (len(labels),), generator=generator)
    num_shapes = len(vocabulary.SHAPES)
    images = render(
        class_ids // num_shapes,
        class_ids % num_shapes,
        sizes,
        generator,
        dataset_cls.style,
        image_size,
    )
    pixels = (images.permute(0, 2, 3, 1) * 255).round().to(torch.uint8).numpy()  # [N, S, S, 3]

    names = vocabulary.class_names()
    split = {key: [] for key in SPLIT_SIZES}
    for label, class_id in enumerate(classes):
        class_folder = names[class_id].replace(" ", "_")
        os.makedirs(os.path.join(folder, dataset_cls.image_dir_name, class_folder), exist_ok=True)
        start = label * per_class
        for key_index, key in enumerate(SPLIT_SIZES):
            offset = sum(list(SPLIT_SIZES.values())[:key_index])
            for index in range(offset, offset + SPLIT_SIZES[key]):
                relpath = f"{class_folder}/{index + 1:04d}.png"
                path = os.path.join(folder, dataset_cls.image_dir_name, relpath)
                Image.fromarray(np.ascontiguousarray(pixels[start + index])).save(path)
                split[key].append([relpath, label, names[class_id]])

    write_text_atomic(
        os.path.join(folder, dataset_cls.split_file_name), json.dumps(split, indent=1)
    )
    write_text_atomic(stamp_path, json.dumps(stamp))
    return folder


def split_summary():
    """One line on what a base or new test split of every world dataset holds."""
    classes = NUM_CLASSES // 2
    images = classes * SPLIT_SIZES["test"]
    return (
        f"Each world base or new test split: {classes} classes (chance {100 / classes:.1f}%), "
        f"{images} test images (one image = {100 / images:.3f} points)"
    )


@reports_user_errors
def main(argv=None):
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="output folder (DATA / DATASET.ROOT)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--describe", action="store_true", help="only print what a test split holds"
    )
    args = parser.parse_args(argv)
    if args.describe:
        print(split_summary())
        return 0
    refuse(not args.root, "--root is required (or --describe)")
    check_seed(args.seed)
    check_writable_folder("--root", args.root)
    root = os.path.abspath(args.root)
    for dataset_cls in world_datasets():
        folder = write_world_dataset(dataset_cls, root, seed=args.seed)
        print(f"{dataset_cls.__name__}: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
