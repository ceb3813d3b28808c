"""The fixed train/val/test split of a user's own dataset: drawn once, then reused and checked.

The first run draws the split per class (shuffled by ``SPLIT_SEED``, cut at the fractions, as
CoOp's own ``read_and_split_data`` does) and writes it as a ``split_zhou`` file, with the seed and
fractions recorded in it, next to the data, or in the user's cache when that folder is read-only.
Every later run, method and seed reads that file, so numbers stay comparable. If the data no
longer matches it (images added, removed or moved to another class), or the configured seed or
fractions differ from the recorded ones, the run stops and says how to re-split: a split is never
redrawn silently.
"""

import errno
import json
import os
import random

from run.disk_errors import clear_write_errors
from run.new_file import write_new_file

from .own_data_listing import Listing, OwnDataError, labelled_classes
from .splits import READ_ONLY_ERRNOS, SPLIT_NAMES, read_split_file, user_fewshot_dir

FEWSHOT_FOLDER = "split_fewshot"


def split_sizes(count: int, fractions) -> tuple:
    """(train, val, test) images of a class of ``count`` images; test takes the rest."""
    n_train = round(count * fractions[0])
    n_val = round(count * fractions[1])
    return n_train, n_val, count - n_train - n_val


def images_needed(fractions, num_shots: int) -> int:
    """The fewest images a class needs for >= ``num_shots`` (at least 1) training images and at
    least one validation and one test image."""
    count = 3
    while True:
        n_train, n_val, n_test = split_sizes(count, fractions)
        if n_train >= max(num_shots, 1) and n_val >= 1 and n_test >= 1:
            return count
        count += 1


def check_fractions(fractions):
    if (
        len(fractions) != 3
        or any(not 0 < value < 1 for value in fractions)
        or abs(sum(fractions) - 1) > 1e-6
    ):
        raise OwnDataError(
            f"DATASET.OWN.SPLIT_FRACTIONS {tuple(fractions)} must be three fractions (train, "
            "val, test), each between 0 and 1, summing to 1, e.g. (0.5, 0.2, 0.3)."
        )


def check_class_sizes(listing: Listing, names: dict, fractions, num_shots: int):
    """Refuse a class too small for the split and the shots asked for, naming it."""
    counts = {}
    for key in listing.images.values():
        counts[key] = counts.get(key, 0) + 1
    needed = images_needed(fractions, num_shots)
    short = [key for key in labelled_classes(names) if counts[key] < needed]
    if short:
        raise OwnDataError(
            f'Class "{short[0]}" of {listing.source} has {counts[short[0]]} images, fewer than '
            f"the {needed} it needs for {max(num_shots, 1)} training images (DATASET.NUM_SHOTS), "
            f"one validation and one test image at DATASET.OWN.SPLIT_FRACTIONS "
            f"{tuple(fractions)}"
            + (f" ({len(short)} classes are short)" if len(short) > 1 else "")
            + ": add images or lower the shots."
        )


def draw_split(listing: Listing, names: dict, fractions, seed: int) -> dict:
    """The split file's content: each class shuffled by ``seed``, then cut at ``fractions``."""
    by_class = {key: [] for key in names}
    for path, key in sorted(listing.images.items()):
        by_class[key].append(path)
    rng = random.Random(seed)
    split = {name: [] for name in SPLIT_NAMES}
    for label, key in enumerate(labelled_classes(names)):
        paths = by_class[key]
        rng.shuffle(paths)
        n_train, n_val, _ = split_sizes(len(paths), fractions)
        parts = (paths[:n_train], paths[n_train : n_train + n_val], paths[n_train + n_val :])
        for name, part in zip(SPLIT_NAMES, parts):
            split[name].extend([path, label, names[key]] for path in part)
    split["seed"] = seed
    split["fractions"] = list(fractions)
    return split


def split_changes(split: dict, listing: Listing, names: dict) -> str:
    """How the data differs from the split (added, removed, relabelled images), or ""."""
    listed = {path: name for key in SPLIT_NAMES for path, _, name in split[key]}
    current = {path: names[key] for path, key in listing.images.items()}
    added = sorted(set(current) - set(listed))
    removed = sorted(set(listed) - set(current))
    moved = sorted(path for path in set(current) & set(listed) if current[path] != listed[path])
    parts = [
        f"{len(paths)} images {what} (e.g. {paths[0]})"
        for paths, what in ((added, "added"), (removed, "removed"), (moved, "of another class"))
        if paths
    ]
    return ", ".join(parts)


def split_file_locations(data_dir: str, file_name: str) -> tuple:
    """(next to the data, in the user's cache): where the split file is written and looked for."""
    cache_dir = user_fewshot_dir(os.path.join(data_dir, FEWSHOT_FOLDER))
    return os.path.join(data_dir, file_name), os.path.join(cache_dir, file_name)


def write_split(split: dict, locations: tuple) -> str:
    """Write the split next to the data, or in the cache when that folder is read-only."""
    text = json.dumps(split, indent=1)
    beside, cached = locations
    try:
        write_new_file(beside, text)
        return beside
    except FileExistsError:  # another run wrote the split first: that one is read
        return beside
    except OSError as error:
        if error.errno not in READ_ONLY_ERRNOS + (errno.EXDEV,):
            raise
    print(f"Note: {os.path.dirname(beside)} is read-only; writing the split to {cached}")
    with clear_write_errors(cached):
        try:
            write_new_file(cached, text)
        except FileExistsError:
            pass
    return cached


def load_or_draw_split(
    listing: Listing,
    names: dict,
    file_name: str,
    fractions,
    seed: int,
    num_shots: int,
    dataset_name: str,
) -> tuple:
    """The split file's path, once it is known to match the data and the configuration.

    Classes too small for ``num_shots`` training images are refused before anything is written.
    """
    check_fractions(fractions)
    locations = split_file_locations(listing.base_dir, file_name)
    existing = [path for path in locations if os.path.isfile(path)]
    if not existing:
        check_class_sizes(listing, names, fractions, num_shots)
        path = write_split(draw_split(listing, names, fractions, seed), locations)
        print(
            f"Drew the split of {dataset_name} (seed {seed}, train/val/test fractions "
            f"{tuple(fractions)}) and saved it to {path}; later runs reuse it"
        )
    path = existing[0] if existing else path
    read_split_file(path, dataset_name)  # refuses a file that is not in the split_zhou format
    with open(path, encoding="utf-8") as file:
        recorded = json.load(file)
    how_to_resplit = (
        f"To draw a new split from the data as it is now, delete {path} (results on the new "
        "split are not comparable with earlier ones)"
    )
    drawn_with = (recorded.get("seed"), recorded.get("fractions"))
    if drawn_with != (seed, list(fractions)):
        raise OwnDataError(
            f"{dataset_name}: the split {path} was drawn with DATASET.OWN.SPLIT_SEED "
            f"{drawn_with[0]} and DATASET.OWN.SPLIT_FRACTIONS {drawn_with[1]}, not {seed} and "
            f"{list(fractions)}: set those values to reuse it. {how_to_resplit}."
        )
    changes = split_changes(recorded, listing, names)
    if changes:
        raise OwnDataError(
            f"{dataset_name}: {listing.source} changed since its split {path} was drawn: "
            f"{changes}. The split is never redrawn silently. {how_to_resplit}; to keep the "
            "old split, restore the data."
        )
    check_class_sizes(listing, names, fractions, num_shots)
    return path
