"""Train/val/test lists shared by every dataset: CoOp's split files, few-shot caches, base/new.

The behaviour matches CoOp's so that numbers stay comparable with the published ones:

* ``split_zhou_<Name>.json`` holds ``{"train"|"val"|"test": [[path, label, class name], ...]}``,
  the paths relative to the dataset's image folder. It is only read: a missing split file is an
  error, never a reason to draw a new random split.
* ``DATASET.NUM_SHOTS = K >= 1`` samples K training and min(K, 4) validation images per class with
  Dassl's ``generate_fewshot_dataset`` and caches them in ``split_fewshot/shot_{K}-seed_{SEED}.pkl``
  under the dataset folder, which later runs load instead of sampling again. When the dataset
  folder is read-only the cache goes to the user's cache folder instead (``user_fewshot_dir``).
* A split file is checked against its own class list (``split_inconsistency``) before use.
* ``DATASET.SUBSAMPLE_CLASSES = base|new`` keeps the first ceil(n/2) or the remaining sorted labels
  of the first list and renumbers them from 0 in every list.
"""

import errno
import hashlib
import json
import math
import os
import pickle
from collections import Counter

from dassl.data.datasets import DatasetBase, Datum
from dassl.utils import read_json, write_json

from run.atomic_files import write_atomic
from run.disk_errors import clear_write_errors
from run.untrusted_files import load_datum_lists
from run.user_errors import ConfigError, UserError

from .layout import check_images_exist, dataset_root, layout_error, require_dir

SUBSAMPLE_CHOICES = ("all", "base", "new")
SPLIT_NAMES = ("train", "val", "test")

SPLIT_FILE_NOTE = (
    "The split_zhou_*.json files are CoOp's fixed train/val/test splits (download links in "
    "DATASETS.md); no new random split is drawn, so that results stay comparable."
)


class SplitFileError(UserError, ValueError):
    """A split file that is not in CoOp's format (truncated, wrong types, missing lists)."""


SPLIT_FORMAT = (
    '{"train": [[image path relative to the image folder, integer label, class name], '
    '...], "val": [...], "test": [...]}'
)


def _short_repr(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _type_name(value):
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}"
    )


def read_split_file(filepath, dataset_name="dataset"):
    """{"train"|"val"|"test": [(relpath, label, classname), ...]} from a CoOp split file.

    Anything that is not that format raises SplitFileError naming the file and the first bad entry.
    """

    def invalid(problem):
        return SplitFileError(
            f"{dataset_name}: {filepath} is not a valid split file: {problem}.\n"
            f"Expected {SPLIT_FORMAT}. Re-download CoOp's file (DATASETS.md) if it was changed or "
            "cut short."
        )

    try:
        split = read_json(filepath)
    except UnicodeDecodeError as error:
        raise invalid(f"it is not UTF-8 text ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise invalid(
            f"it is not valid JSON ({error.msg} at line {error.lineno}, column "
            f"{error.colno}; an interrupted download leaves a truncated file)"
        ) from error
    if not isinstance(split, dict):
        raise invalid(f"the top level is {_type_name(split)}, not an object")
    missing_keys = [key for key in SPLIT_NAMES if key not in split]
    if missing_keys:
        raise invalid(f"it has no {' / '.join(missing_keys)} list")

    entries = {}
    for key in SPLIT_NAMES:
        items = split[key]
        if not isinstance(items, list):
            raise invalid(f'"{key}" is {_type_name(items)}, not a list')
        if not items:
            raise invalid(f'the "{key}" list is empty')
        for index, entry in enumerate(items):
            where = f'"{key}"[{index}]'
            if not isinstance(entry, list) or len(entry) != 3:
                raise invalid(f"{where} is {_short_repr(entry)}, not [path, label, class name]")
            relpath, label, classname = entry
            if not isinstance(relpath, str) or not relpath:
                raise invalid(f"{where}: the image path {_short_repr(relpath)} is not a file name")
            if type(label) is not int or label < 0:
                raise invalid(f"{where}: the label {_short_repr(label)} is not an integer >= 0")
            if not isinstance(classname, str):
                raise invalid(f"{where}: the class name {_short_repr(classname)} is not a string")
        entries[key] = [tuple(entry) for entry in items]
    problem = split_inconsistency(entries)
    if problem:
        raise invalid(problem)
    return entries


def split_inconsistency(entries):
    """The first way the lists contradict their own class list, or None.

    One class name per label and one label per class name, labels 0..n-1 for n classes, every
    class of val/test also in train, no image twice in a list, and no image in two lists.
    """
    first: dict = {}  # label or class name -> (the other one, where it was first seen)
    where_seen: dict[str, str] = {}  # image path -> where it was first seen
    for key in SPLIT_NAMES:
        for index, (relpath, label, classname) in enumerate(entries[key]):
            where = f'"{key}"[{index}]'
            for mine, other in ((label, classname), (classname, label)):
                seen_other, seen_where = first.setdefault(mine, (other, where))
                if seen_other != other:
                    return (
                        f"{where} pairs label {label} with class {classname!r}, but "
                        f"{seen_where} pairs {mine!r} with {seen_other!r}"
                    )
            if relpath in where_seen:
                return f"{where}: the image {relpath!r} is also listed at {where_seen[relpath]}"
            where_seen[relpath] = where
    labels = sorted(key for key in first if isinstance(key, int))
    wrong = [label for position, label in enumerate(labels) if label != position]
    if wrong:
        return (
            f"the labels of {len(labels)} classes must be 0..{len(labels) - 1}, but label "
            f"{wrong[-1]} ({first[wrong[-1]][0]!r}) is used at {first[wrong[-1]][1]}"
        )
    train_labels = {label for _, label, _ in entries["train"]}
    for key in ("val", "test"):
        for index, (_, label, classname) in enumerate(entries[key]):
            if label not in train_labels:
                return (
                    f'"{key}"[{index}]: class {label} ({classname!r}) has no training image; '
                    "it would move the base/new boundary"
                )
    return None


def read_split(filepath, path_prefix, dataset_name="dataset"):
    """(train, val, test) lists of Datum from a CoOp split file, paths joined to path_prefix."""
    print(f"Reading split from {filepath}")
    entries = {
        key: [
            (os.path.join(path_prefix, relpath), label, classname)
            for relpath, label, classname in items
        ]
        for key, items in read_split_file(filepath, dataset_name).items()
    }
    # Datum itself only asserts on the first missing file; count them all for the error.
    all_paths = [impath for key in entries for impath, _, _ in entries[key]]
    check_images_exist(all_paths, dataset_name, filepath)
    return tuple(
        [
            Datum(impath=impath, label=label, classname=classname)
            for impath, label, classname in entries[key]
        ]
        for key in SPLIT_NAMES
    )


def save_split(train, val, test, filepath, path_prefix):
    """Write (train, val, test) as a CoOp split file, paths made relative to path_prefix."""

    def relative(items):
        return [
            (os.path.relpath(item.impath, path_prefix), item.label, item.classname)
            for item in items
        ]

    write_json({"train": relative(train), "val": relative(val), "test": relative(test)}, filepath)
    print(f"Saved split to {filepath}")


def write_pickle_atomic(obj, path):
    """Pickle obj to path via a temporary file, so a crash never leaves half a cache behind.

    The file is created with ``open``, so its permissions follow the umask (a shared dataset
    folder's cache stays readable by the group when the umask says so).
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(
        path, lambda file: pickle.dump(obj, file, protocol=pickle.HIGHEST_PROTOCOL), binary=True
    )


READ_ONLY_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)


def user_fewshot_dir(fewshot_dir):
    """Where the few-shot lists of a dataset in a read-only folder are cached instead.

    Under $XDG_CACHE_HOME (default ~/.cache), one folder per dataset folder.
    """
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    dataset_dir = os.path.realpath(os.path.dirname(fewshot_dir))
    key = hashlib.sha1(dataset_dir.encode("utf-8")).hexdigest()[:10]
    name = f"{os.path.basename(dataset_dir)}-{key}"
    return os.path.join(cache_home, "sep-prompt-tuning", "split_fewshot", name)


def write_fewshot_cache(data, path):
    """Cache ``data`` at ``path``, or in the user's cache when that folder is read-only."""
    try:
        write_pickle_atomic(data, path)
        return path
    except OSError as error:
        if error.errno not in READ_ONLY_ERRNOS:
            raise
    fallback = os.path.join(user_fewshot_dir(os.path.dirname(path)), os.path.basename(path))
    print(f"Note: {os.path.dirname(path)} is read-only; caching the few-shot lists in {fallback}")
    with clear_write_errors(fallback):
        write_pickle_atomic(data, fallback)
    return fallback


FEWSHOT_CACHE_REMEDY = "Delete it: the next run draws the few-shot lists again from the seed. "


def read_fewshot_cache(path):
    """The cached few-shot lists; an unreadable cache is an error that says to delete it."""
    try:
        data = load_datum_lists(path, "few-shot cache", FEWSHOT_CACHE_REMEDY)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError) as error:
        data = error
    if not isinstance(data, dict) or "train" not in data:
        raise SplitFileError(
            f"The few-shot cache {path} cannot be read ({data!r:.80}). Delete it: the next run "
            "draws the few-shot lists again from the seed."
        )
    return data


def fewshot_cache_path(fewshot_dir, num_shots, seed):
    return os.path.join(fewshot_dir, f"shot_{num_shots}-seed_{seed}.pkl")


class FewShotShortage(ConfigError):
    """More shots asked for than some classes have training images."""


FEWER_SHOTS_POLICIES = ("error", "warn")


def short_classes(items: list, num_shots: int) -> list[str]:
    """``"<class name> (<count>)"`` for each class with fewer than ``num_shots`` items, by label."""
    counts = Counter(item.label for item in items)
    classnames = {item.label: item.classname for item in items}
    return [
        f"{classnames[label]} ({counts[label]})"
        for label in sorted(counts)
        if counts[label] < num_shots
    ]


def check_enough_shots(train, num_shots, policy):
    """Refuse (policy "error") a few-shot request that some classes cannot fill.

    On an intact benchmark every class has at least 16 training images, so a shortage usually
    means a half-extracted dataset; "warn" keeps Dassl's behaviour of using all their images.
    """
    if policy not in FEWER_SHOTS_POLICIES:
        raise ConfigError(
            f"DATASET.FEWER_SHOTS_POLICY must be one of {FEWER_SHOTS_POLICIES}, got {policy!r}"
        )
    if policy != "error":
        return
    short = short_classes(train, num_shots)
    if short:
        raise FewShotShortage(
            f"DATASET.NUM_SHOTS {num_shots}, but {len(short)} classes have fewer training images: "
            f"{', '.join(short[:10])}{' ...' if len(short) > 10 else ''}. Check that the dataset "
            "is complete, lower DATASET.NUM_SHOTS, or set DATASET.FEWER_SHOTS_POLICY warn to use "
            "all their images (Dassl's behaviour)."
        )


def load_or_create_fewshot(
    dataset, train, val, num_shots, seed, fewshot_dir, shortage_policy="error"
):
    """(train, val) with num_shots / min(num_shots, 4) items per class, cached on disk.

    ``dataset`` is the DatasetBase whose ``generate_fewshot_dataset`` samples (with Python's
    global ``random``, seeded by the trainer). ``val=None`` caches the training list only, as
    CoOp does for ImageNet, and returns ``(train, None)``. ``shortage_policy``: see
    ``check_enough_shots``.
    """
    check_enough_shots(train, num_shots, shortage_policy)
    path = fewshot_cache_path(fewshot_dir, num_shots, seed)
    fallback = fewshot_cache_path(user_fewshot_dir(fewshot_dir), num_shots, seed)
    if not os.path.exists(path) and os.path.exists(fallback):
        path = fallback
    if os.path.exists(path):
        print(f"Loading preprocessed few-shot data from {path}")
        data = read_fewshot_cache(path)
        train = data["train"]
        val = data["val"] if val is not None else None
    else:
        train = dataset.generate_fewshot_dataset(train, num_shots=num_shots)
        data = {"train": train}
        if val is not None:
            val = dataset.generate_fewshot_dataset(val, num_shots=min(num_shots, 4))
            data["val"] = val
        print(f"Saving preprocessed few-shot data to {path}")
        write_fewshot_cache(data, path)

    warn_short_classes(train, num_shots, "training")
    if val is not None:
        warn_short_classes(val, min(num_shots, 4), "validation")
    return train, val


def warn_short_classes(items, num_shots, split_name):
    """Print one warning line naming the classes with fewer than num_shots items.

    Few-shot sampling silently keeps every item of such a class (Dassl's behaviour), so a few-shot
    list holds fewer than num_shots items exactly for these classes.
    """
    short = short_classes(items, num_shots)
    if short:
        print(
            f"Warning: {len(short)} classes have fewer than {num_shots} {split_name} images, "
            f"all of their images are used: {', '.join(short)}"
        )
    return short


def subsample_classes(*splits, subsample="all"):
    """Keep the base (first half) or new (second half) classes in every list, relabelled from 0.

    The classes are the sorted labels of the first list; base takes ceil(n/2) of them.
    """
    if subsample not in SUBSAMPLE_CHOICES:
        raise ConfigError(
            f"DATASET.SUBSAMPLE_CLASSES must be one of {SUBSAMPLE_CHOICES}, got {subsample!r}"
        )
    if subsample == "all":
        return list(splits)

    labels = sorted({item.label for item in splits[0]})
    num_base = math.ceil(len(labels) / 2)
    selected = labels[:num_base] if subsample == "base" else labels[num_base:]
    relabel = {label: new_label for new_label, label in enumerate(selected)}

    print(f"SUBSAMPLE {subsample.upper()} CLASSES!")
    return [
        [
            Datum(
                impath=item.impath,
                label=relabel[item.label],
                domain=item.domain,
                classname=item.classname,
            )
            for item in split
            if item.label in relabel
        ]
        for split in splits
    ]


class FixedSplitDataset(DatasetBase):
    """A dataset with fixed train/val/test lists, by default read from CoOp's split_zhou file.

    A subclass names its folders in the class attributes; one whose split comes from other files
    overrides ``read_splits``. Few-shot sampling and the base/new class split then happen here,
    identically for every such dataset.
    """

    dataset_dir = ""  # folder under DATASET.ROOT
    image_dir_name = ""  # image folder inside it, the prefix of the split's paths ("" = itself)
    split_file_name = ""  # CoOp's split_zhou_<Name>.json inside the dataset folder
    layout = ""  # folder tree shown in the errors
    renamed_classes: dict[str, str] = {}  # folder name -> the class name CoOp gave it in the split
    ignored_folders = ()  # image folders CoOp left out of the split

    def __init__(self, cfg):
        self.locate_folders(cfg)
        train, val, test = self.read_splits()

        num_shots = cfg.DATASET.NUM_SHOTS
        if num_shots >= 1:
            train, val = load_or_create_fewshot(
                self,
                train,
                val,
                num_shots,
                self.fewshot_seed(cfg),
                self.split_fewshot_dir,
                cfg.DATASET.FEWER_SHOTS_POLICY,
            )
        train, val, test = subsample_classes(
            train, val, test, subsample=cfg.DATASET.SUBSAMPLE_CLASSES
        )
        super().__init__(train_x=train, val=val, test=test)

    def fewshot_seed(self, cfg):
        """The seed in the few-shot cache's file name (``shot_K-seed_S.pkl``)."""
        return cfg.SEED

    def locate_folders(self, cfg):
        """Set ``root``, ``dataset_dir``, ``image_dir`` and ``split_fewshot_dir``."""
        name = type(self).__name__
        self.root = dataset_root(cfg, name, self.layout)
        self.dataset_dir = require_dir(
            os.path.join(self.root, self.dataset_dir),
            name,
            "dataset folder",
            self.root,
            self.layout,
        )
        self.image_dir = self.dataset_dir
        if self.image_dir_name:
            self.image_dir = require_dir(
                os.path.join(self.dataset_dir, self.image_dir_name),
                name,
                "image folder",
                self.root,
                self.layout,
            )
        self.split_fewshot_dir = os.path.join(self.dataset_dir, "split_fewshot")

    def read_splits(self):
        name = type(self).__name__
        split_path = os.path.join(self.dataset_dir, self.split_file_name)
        if not os.path.isfile(split_path):
            raise layout_error(
                name, "split file", split_path, self.root, self.layout, SPLIT_FILE_NOTE
            )
        train, val, test = read_split(split_path, self.image_dir, name)
        self.warn_if_nonstandard_split(split_path, train + val + test)
        return train, val, test

    def warn_if_nonstandard_split(self, split_path, items):
        """CoOp renamed and dropped some classes when it drew its splits; a split that still has
        them was drawn by other code and gives numbers that are not comparable."""
        old_names = {folder for folder, new in self.renamed_classes.items() if folder != new}
        stale = sorted({item.classname for item in items} & old_names)
        ignored: list = []
        if self.ignored_folders:
            folders = {
                os.path.relpath(item.impath, self.image_dir).split(os.sep)[0] for item in items
            }
            ignored = sorted(folders & set(self.ignored_folders))
        if stale or ignored:
            print(
                f"Warning: {split_path} does not look like CoOp's standard split "
                f"(class names CoOp renames: {stale}; folders CoOp leaves out: {ignored})"
            )
