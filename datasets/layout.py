"""Where a dataset's files must be, and errors that say so.

Every dataset reads CoOp's on-disk layout under ``cfg.DATASET.ROOT``. When something is missing the
error names the path that was expected, draws the dataset's folder tree and points to CoOp's
DATASETS.md, where the download links (including those of the fixed ``split_zhou_*.json`` files)
are listed.
"""

import os

from run.user_errors import UserError

DATASETS_MD_URL = "https://github.com/KaiyangZhou/CoOp/blob/main/DATASETS.md"


class DatasetLayoutError(UserError, FileNotFoundError):
    """A file or folder of a dataset is not where the CoOp layout puts it."""

    def __init__(self, message, path):
        super().__init__(message)
        self.path = path


class MissingImagesError(DatasetLayoutError):
    """A split or annotation file lists images that are not on disk."""


def _explain(dataset_name, root, layout):
    tree = "\n".join(f"    {line}" for line in layout.strip("\n").splitlines())
    return (
        f"Expected layout under DATASET.ROOT ({root}):\n{tree}\n"
        f"How to download and arrange {dataset_name}: CoOp's DATASETS.md ({DATASETS_MD_URL})."
    )


def layout_error(dataset_name, what, path, root, layout, note=""):
    """A DatasetLayoutError for ``what`` missing at ``path`` (``note`` adds a closing sentence)."""
    message = f"{dataset_name}: {what} not found: {path}\n{_explain(dataset_name, root, layout)}"
    if note:
        message += f"\n{note}"
    return DatasetLayoutError(message, path)


def dataset_root(cfg, dataset_name, layout):
    """The absolute ``cfg.DATASET.ROOT``; raises if it is unset or not a folder."""
    if not cfg.DATASET.ROOT:
        raise DatasetLayoutError(
            f"{dataset_name}: DATASET.ROOT is empty; set it (--root) to the folder that holds the "
            f"dataset folders.\n{_explain(dataset_name, '$DATA', layout)}",
            "",
        )
    root = os.path.abspath(os.path.expanduser(cfg.DATASET.ROOT))
    if not os.path.isdir(root):
        raise layout_error(dataset_name, "DATASET.ROOT folder", root, root, layout)
    return root


def require_dir(path, dataset_name, what, root, layout):
    if not os.path.isdir(path):
        raise layout_error(dataset_name, what, path, root, layout)
    return path


def require_file(path, dataset_name, what, root, layout, note=""):
    if not os.path.isfile(path):
        raise layout_error(dataset_name, what, path, root, layout, note)
    return path


def check_images_exist(impaths, dataset_name, listed_in, shown=5):
    """Raise MissingImagesError with the count and the first ``shown`` paths that do not exist."""
    missing = [path for path in impaths if not os.path.isfile(path)]
    if missing:
        first = "\n".join(f"    {path}" for path in missing[:shown])
        more = f"\n    ... and {len(missing) - shown} more" if len(missing) > shown else ""
        raise MissingImagesError(
            f"{dataset_name}: {len(missing)} of {len(impaths)} images listed in {listed_in} "
            f"do not exist, e.g.:\n{first}{more}\n"
            f"Check that the images were extracted completely and that DATASET.ROOT points at "
            f"the right copy (layout: CoOp's DATASETS.md, {DATASETS_MD_URL}).",
            missing[0],
        )
