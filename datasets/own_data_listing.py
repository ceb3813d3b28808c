"""What a user's own dataset holds: its images and their classes, from a folder or a CSV file.

Two sources, one result (``Listing``: image path relative to the source's folder -> class key):

* a folder of class sub-folders, ``<folder>/<class>/*.jpg`` (ImageNet-style); the class key is
  the sub-folder's name. Image files are found at any depth below their class folder.
* a CSV file of ``path,class name`` lines, the paths relative to the CSV file's folder (or
  absolute); an optional first line ``path,class`` (or ``path,class name``) is a header.

Class names shown to CLIP come from the keys (``golden_retriever`` -> ``golden retriever``) or
from a class-names file of ``<key> <class name>`` lines (ImageNet's ``classnames.txt`` format).
Labels are the classes in the order of their normalised names, so the same data as a folder or as
a CSV gets the same labels; base/new is the first half of the labels and the rest.
"""

import csv
import os
from dataclasses import dataclass

from run.user_errors import UserError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
CSV_HEADERS = (["path", "class"], ["path", "class name"])


class OwnDataError(UserError, ValueError):
    """A user's dataset that cannot be read as one (empty class, bad CSV line, ...)."""


@dataclass
class Listing:
    images: dict  # image path relative to ``base_dir`` -> class key
    base_dir: str  # the folder the paths are relative to
    source: str  # the folder or CSV file read (for messages)


def normalize_class_name(name: str) -> str:
    """``golden_retriever`` -> ``golden retriever``: underscores to spaces, spaces collapsed."""
    return " ".join(name.replace("_", " ").split())


def is_image_file(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)


def list_image_folder(folder: str, ignored=()) -> Listing:
    """Every image under ``folder/<class>/``; ``ignored``: entries of ``folder`` that are not
    classes (the split file and few-shot cache written next to the data)."""
    if not os.path.isdir(folder):
        raise OwnDataError(
            f"Image folder not found: {folder}. Set DATASET.OWN.PATH to a folder of class "
            "sub-folders (<folder>/<class name>/*.jpg), relative to DATASET.ROOT or absolute."
        )
    images = {}
    class_dirs = sorted(
        name
        for name in os.listdir(folder)
        if not name.startswith(".")
        and name not in ignored
        and os.path.isdir(os.path.join(folder, name))
    )
    if not class_dirs:
        raise OwnDataError(
            f"{folder} has no class sub-folders: arrange the images as "
            f"{folder}/<class name>/<image>.jpg."
        )
    for class_dir in class_dirs:
        found = [
            os.path.relpath(os.path.join(parent, name), folder)
            for parent, dirs, names in os.walk(os.path.join(folder, class_dir))
            for name in names
            if is_image_file(name)
        ]
        if not found:
            raise OwnDataError(
                f'Class folder "{class_dir}" in {folder} holds no image '
                f"({', '.join(IMAGE_EXTENSIONS)}): add its images or remove the folder."
            )
        images.update((path, class_dir) for path in sorted(found))
    return Listing(images, folder, folder)


def list_image_csv(csv_path: str) -> Listing:
    """Every ``path,class name`` line of ``csv_path``; a line that does not parse is an error
    naming its number."""
    if not os.path.isfile(csv_path):
        raise OwnDataError(
            f"CSV file not found: {csv_path}. Set DATASET.OWN.PATH to a CSV of 'path,class name' "
            "lines, relative to DATASET.ROOT or absolute."
        )
    base_dir = os.path.dirname(os.path.abspath(csv_path))
    images = {}
    with open(csv_path, newline="", encoding="utf-8-sig") as file:
        for line_number, row in enumerate(csv.reader(file), start=1):
            if not row or not "".join(row).strip():
                continue
            cells = [cell.strip() for cell in row]
            if line_number == 1 and [cell.lower() for cell in cells] in CSV_HEADERS:
                continue
            if len(cells) != 2 or not cells[0] or not normalize_class_name(cells[1]):
                raise OwnDataError(
                    f"{csv_path}, line {line_number}: {','.join(row)!r} is not 'path,class name' "
                    "(two fields, neither empty; quote a path or name that holds a comma)."
                )
            path = os.path.normpath(cells[0])
            if path in images and images[path] != cells[1]:
                raise OwnDataError(
                    f"{csv_path}, line {line_number}: {path} is listed again with another class "
                    f"({images[path]!r}, then {cells[1]!r}); an image has one class."
                )
            images[path] = cells[1]
    if not images:
        raise OwnDataError(f"{csv_path} lists no image: write one 'path,class name' line each.")
    missing = [path for path in images if not os.path.isfile(os.path.join(base_dir, path))]
    if missing:
        raise OwnDataError(
            f"{csv_path} lists {len(missing)} images that do not exist (e.g. {missing[0]}); paths "
            f"are relative to the CSV file's folder ({base_dir})."
        )
    return Listing(images, base_dir, csv_path)


def read_classnames_file(path: str) -> dict:
    """{class key: class name} from ``<key> <class name>`` lines (the first space separates)."""
    if not os.path.isfile(path):
        raise OwnDataError(
            f"Class-names file not found: {path} (DATASET.OWN.CLASSNAMES_FILE; lines "
            "'<folder or CSV class> <class name>')."
        )
    names = {}
    with open(path, encoding="utf-8") as file:
        for line_number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            key, _, name = line.strip().partition(" ")
            if not normalize_class_name(name):
                raise OwnDataError(
                    f"{path}, line {line_number}: {line.strip()!r} is not '<folder or CSV "
                    "class> <class name>'."
                )
            if key in names:
                raise OwnDataError(f"{path}, line {line_number}: class {key!r} is named twice.")
            names[key] = normalize_class_name(name)
    return names


def class_names(keys, classnames_file: str = "") -> dict:
    """{class key: the name CLIP reads}; refuses names that collide once normalised.

    CLIP's tokenizer lowercases and splits on spaces, so ``Golden_Retriever`` and ``golden
    retriever`` would be one prompt for two labels.
    """
    keys = sorted(set(keys))
    if classnames_file:
        given = read_classnames_file(classnames_file)
        unnamed = [key for key in keys if key not in given]
        if unnamed:
            raise OwnDataError(
                f"{classnames_file} names no class for {len(unnamed)} classes of the data, e.g. "
                f"{unnamed[0]!r}: add a line '{unnamed[0]} <class name>' for each."
            )
        extra = [key for key in given if key not in keys]
        if extra:
            raise OwnDataError(
                f"{classnames_file} names class {extra[0]!r}, which the data does not have "
                f"(classes: {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''})."
            )
        names = {key: given[key] for key in keys}
    else:
        names = {key: normalize_class_name(key) for key in keys}
    seen = {}
    for key, name in names.items():
        other = seen.setdefault(name.casefold(), key)
        if other != key:
            raise OwnDataError(
                f"Classes {other!r} and {key!r} both become the class name {name!r} (underscores "
                "read as spaces, case ignored, as CLIP reads them): rename or merge one of them."
            )
    return names


def labelled_classes(names: dict) -> list:
    """The class keys in label order: sorted by normalised name, so that a folder and a CSV of
    the same data agree."""
    return sorted(names, key=lambda key: (normalize_class_name(key).casefold(), key))
