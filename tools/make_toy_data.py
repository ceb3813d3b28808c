"""Write a toy dataset in the real Caltech101 layout, plus the tiny CLIP, for tests and the demo.

    python tools/make_toy_data.py --root toy_data [--classes 6 --per-class 12 --size 32 --seed 0]

writes
    toy_data/caltech-101/101_ObjectCategories/<class>/image_0001.jpg, ...
    toy_data/caltech-101/split_zhou_Caltech101.json   (train/val/test, CoOp's split format)
    toy_data/tiny_clip.pt
so ``DATASET.NAME Caltech101``, ``DATASET.ROOT toy_data`` and ``MODEL.BACKBONE.NAME
toy_data/tiny_clip.pt`` run any trainer offline. Each class is one colour and one shape, drawn with
jitter and noise, so a classifier can learn them; the output depends only on the seed.
"""

import io
import os
import sys
from dataclasses import dataclass

import numpy as np
from PIL import Image

if __package__ in (None, ""):  # run as a script: make `tools.` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from run.atomic_files import write_json_atomic  # noqa: E402
from run.tool_cli import (  # noqa: E402
    ToolArgumentParser,
    check_seed,
    check_writable_folder,
    refuse,
    reports_user_errors,
)
from tools.make_tiny_clip import write_tiny_clip  # noqa: E402

DATASET_FOLDER = "caltech-101"
MIN_IMAGE_SIZE = 8
IMAGE_FOLDER = "101_ObjectCategories"
SPLIT_FILE = "split_zhou_Caltech101.json"

# (class name, RGB colour in [0, 1], shape); the colours are far apart and each class has its
# own shape, so colour or shape alone separates the classes.
TOY_CLASSES = [
    ("red_circle", (0.90, 0.10, 0.10), "circle"),
    ("green_square", (0.10, 0.80, 0.20), "square"),
    ("blue_triangle", (0.15, 0.25, 0.95), "triangle"),
    ("yellow_cross", (0.95, 0.90, 0.10), "cross"),
    ("purple_stripes", (0.60, 0.15, 0.75), "stripes"),
    ("orange_ring", (1.00, 0.55, 0.05), "ring"),
    ("cyan_dots", (0.10, 0.85, 0.90), "dots"),
    ("pink_checker", (1.00, 0.50, 0.75), "checker"),
    ("white_diamond", (0.97, 0.97, 0.97), "diamond"),
    ("brown_bars", (0.50, 0.30, 0.10), "bars"),
]


@dataclass
class ToyData:
    root: str  # use as DATASET.ROOT
    dataset_dir: str
    split_path: str
    tiny_clip_path: str  # use as MODEL.BACKBONE.NAME
    classnames: list
    split_sizes: dict  # {"train": n, "val": n, "test": n}


def shape_mask(shape, size, center, radius):
    """Boolean [size, size] mask of ``shape`` around ``center`` (row, col)."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    dy, dx = rows - center[0], cols - center[1]
    distance = np.sqrt(dy**2 + dx**2)
    if shape == "circle":
        return distance <= radius
    if shape == "square":
        return (np.abs(dy) <= radius * 0.8) & (np.abs(dx) <= radius * 0.8)
    if shape == "triangle":
        return (dy <= radius * 0.7) & (np.abs(dx) <= (dy + radius) * 0.6)
    if shape == "cross":
        arm = max(radius * 0.3, 1.0)
        inside = (np.abs(dy) <= radius) & (np.abs(dx) <= radius)
        return inside & ((np.abs(dy) <= arm) | (np.abs(dx) <= arm))
    if shape == "stripes":
        period = max(size // 8, 2)
        return ((rows + center[0]).astype(int) // period) % 2 == 0
    if shape == "ring":
        return (distance <= radius) & (distance >= radius * 0.55)
    if shape == "dots":
        period = max(size // 5, 3)
        return (((rows + center[0]) % period) < period / 2.5) & (
            ((cols + center[1]) % period) < period / 2.5
        )
    if shape == "checker":
        period = max(size // 4, 2)
        return (
            ((rows + center[0]).astype(int) // period) + ((cols + center[1]).astype(int) // period)
        ) % 2 == 0
    if shape == "diamond":
        return np.abs(dy) + np.abs(dx) <= radius
    if shape == "bars":
        period = max(size // 8, 2)
        return ((cols + center[1]).astype(int) // period) % 2 == 0
    raise ValueError(f"unknown shape {shape!r}")


def draw_toy_image(rng, colour, shape, size):
    """uint8 [size, size, 3]: the shape in its colour (jittered) on a noisy grey background."""
    background = rng.uniform(0.25, 0.5) + rng.normal(0.0, 0.05, size=(size, size, 1))
    image = np.repeat(background, 3, axis=2)
    center = size / 2 + rng.uniform(-size / 8, size / 8, size=2)
    radius = size * rng.uniform(0.28, 0.38)
    shade = np.clip(np.asarray(colour) + rng.normal(0.0, 0.05, size=3), 0.0, 1.0)
    mask = shape_mask(shape, size, center, radius)
    image[mask] = shade
    image += rng.normal(0.0, 0.04, size=image.shape)
    return (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)


def split_counts(images_per_class):
    """CoOp's 50/20/30 per-class split, with at least one validation and one test image."""
    num_train = round(images_per_class * 0.5)
    num_val = max(round(images_per_class * 0.2), 1)
    return num_train, num_val, images_per_class - num_train - num_val


def make_toy_caltech101(root, num_classes=6, images_per_class=12, image_size=32, seed=0):
    """Write the toy Caltech101 layout and ``tiny_clip.pt`` under ``root``; return a ToyData."""
    if num_classes % 2 or not 2 <= num_classes <= len(TOY_CLASSES):
        raise ValueError(
            f"num_classes must be even (equal base/new halves) and in "
            f"2..{len(TOY_CLASSES)}, got {num_classes}"
        )
    if images_per_class < 3:
        raise ValueError(
            f"images_per_class must be >= 3 (train, val, test), got {images_per_class}"
        )
    root = os.path.abspath(root)
    dataset_dir = os.path.join(root, DATASET_FOLDER)
    image_dir = os.path.join(dataset_dir, IMAGE_FOLDER)
    rng = np.random.default_rng(seed)
    num_train, num_val, _ = split_counts(images_per_class)

    split = {"train": [], "val": [], "test": []}
    for label, (classname, colour, shape) in enumerate(TOY_CLASSES[:num_classes]):
        os.makedirs(os.path.join(image_dir, classname), exist_ok=True)
        relpaths = []
        for index in range(1, images_per_class + 1):
            relpath = f"{classname}/image_{index:04d}.jpg"
            pixels = draw_toy_image(rng, colour, shape, image_size)
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format="JPEG", quality=95)
            with open(os.path.join(image_dir, relpath), "wb") as file:
                file.write(buffer.getvalue())
            relpaths.append(relpath)
        order = rng.permutation(images_per_class)
        chosen = [relpaths[i] for i in order]
        parts = {
            "train": chosen[:num_train],
            "val": chosen[num_train : num_train + num_val],
            "test": chosen[num_train + num_val :],
        }
        for key, paths in parts.items():
            split[key].extend([relpath, label, classname] for relpath in sorted(paths))

    split_path = os.path.join(dataset_dir, SPLIT_FILE)
    write_json_atomic(split_path, split, indent=4)

    tiny_clip_path = write_tiny_clip(os.path.join(root, "tiny_clip.pt"), seed=seed)
    return ToyData(
        root=root,
        dataset_dir=dataset_dir,
        split_path=split_path,
        tiny_clip_path=tiny_clip_path,
        classnames=[name for name, _, _ in TOY_CLASSES[:num_classes]],
        split_sizes={key: len(items) for key, items in split.items()},
    )


@reports_user_errors
def main(argv=None):
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="output folder (DATASET.ROOT)")
    parser.add_argument("--classes", type=int, default=6, help="even, at most 10")
    parser.add_argument("--per-class", type=int, default=12, help="images per class")
    parser.add_argument("--size", type=int, default=32, help="image side in pixels")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    check_seed(args.seed)
    check_writable_folder("--root", args.root)
    refuse(
        args.classes % 2 or not 2 <= args.classes <= len(TOY_CLASSES),
        f"--classes {args.classes}: give an even number in 2..{len(TOY_CLASSES)} (equal base "
        "and new halves)",
    )
    refuse(args.per_class < 3, f"--per-class {args.per_class}: give >= 3 (train, val, test)")
    refuse(
        args.size < MIN_IMAGE_SIZE,
        f"--size {args.size}: give >= {MIN_IMAGE_SIZE} pixels (the shapes must be drawable)",
    )
    toy = make_toy_caltech101(
        args.root,
        num_classes=args.classes,
        images_per_class=args.per_class,
        image_size=args.size,
        seed=args.seed,
    )
    print(
        f"Wrote toy Caltech101 ({len(toy.classnames)} classes, {toy.split_sizes}) to "
        f"{toy.dataset_dir} and the tiny CLIP to {toy.tiny_clip_path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
