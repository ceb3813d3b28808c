"""Small user datasets written by hand, as a user would arrange them: class folders or a CSV."""

import os

import numpy as np
from PIL import Image

from run.config import project_cfg_default


def write_image(path, value, size=8):
    """A ``size`` px RGB image of one grey ``value`` (0..255)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full((size, size, 3), value, dtype=np.uint8)).save(path)


def make_image_folder(folder, counts):
    """``folder/<class>/NNN.png`` with ``counts[class]`` images each; returns the relative paths."""
    paths = []
    for class_index, (class_dir, count) in enumerate(counts.items()):
        for index in range(count):
            relpath = os.path.join(class_dir, f"{index:03d}.png")
            write_image(os.path.join(folder, relpath), (class_index * 40 + index) % 256)
            paths.append(relpath)
    return paths


def write_csv(csv_path, rows, header=True):
    """A CSV of ``path,class name`` rows (paths as given)."""
    with open(csv_path, "w", encoding="utf-8") as file:
        if header:
            file.write("path,class name\n")
        for path, name in rows:
            file.write(f"{path},{name}\n")


def own_cfg(root, name, path, *opts):
    """The config of a user's dataset (``name`` ImageFolder or ImageCSV) under ``root``."""
    cfg = project_cfg_default()
    cfg.merge_from_list(
        [
            "DATASET.NAME",
            name,
            "DATASET.ROOT",
            str(root),
            "DATASET.OWN.PATH",
            path,
            "DATASET.NUM_SHOTS",
            -1,
            "SEED",
            1,
            *opts,
        ]
    )
    return cfg
