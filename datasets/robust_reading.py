"""Dassl's DatasetWrapper, with unreadable image files named in the error or skipped on request.

``DATALOADER.CORRUPT_IMAGE_POLICY``:

* ``fail`` (default): a CorruptImageError names the file and the fix;
* ``skip``: the item is replaced by the next readable item of the same list, and a warning line
  names the file and counts the unreadable files met so far (per loader process: each worker of
  a multi-worker loader counts its own). Every item carries ``"replaced"``, so that evaluation
  leaves replacements out (``readable_part``) instead of counting an image twice.

The normal path costs nothing extra: the image is re-read to find the culprit only after
reading or transforming an item failed.
"""

from dassl.data import DatasetWrapper
from dassl.utils import read_image
from PIL import Image

from run.user_errors import ConfigError, UserError

CORRUPT_IMAGE_POLICIES = ("fail", "skip")
# What PIL and the file system raise for a missing, truncated or non-image file.
READ_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


class CorruptImageError(UserError, OSError):
    """An image file that cannot be read (DataLoader re-raises it from workers by its message)."""


def check_corrupt_image_policy(cfg):
    policy = cfg.DATALOADER.CORRUPT_IMAGE_POLICY
    if policy not in CORRUPT_IMAGE_POLICIES:
        raise ConfigError(
            f'DATALOADER.CORRUPT_IMAGE_POLICY "{policy}" is not one of {CORRUPT_IMAGE_POLICIES}.'
        )
    return policy


def read_failure(path):
    """Why ``path`` cannot be read as an image, or None if it can."""
    try:
        read_image(path)
    except READ_ERRORS as error:
        return f"{type(error).__name__}: {error}"
    return None


class RobustDatasetWrapper(DatasetWrapper):
    def __init__(self, cfg, data_source, transform=None, is_train=False):
        super().__init__(cfg, data_source, transform=transform, is_train=is_train)
        self.policy = check_corrupt_image_policy(cfg)
        self.unreadable = {}  # index -> reason, met by this process

    def __getitem__(self, idx):
        for offset in range(len(self.data_source)):
            candidate = (idx + offset) % len(self.data_source)
            if candidate in self.unreadable:
                continue
            try:
                item = super().__getitem__(candidate)
                item["replaced"] = candidate != idx
                return item
            except READ_ERRORS as error:
                path = self.data_source[candidate].impath
                reason = read_failure(path)
                if reason is None:  # the file is fine: a transform failed, a bug to report
                    raise
                self._refuse_or_skip(candidate, path, reason, error)
        raise CorruptImageError(
            f"None of the {len(self.data_source)} images of this list can be read "
            f"(e.g. {self.data_source[idx].impath}). Check DATASET.ROOT and the image files."
        )

    def _refuse_or_skip(self, index, path, reason, error):
        if self.policy == "fail":
            raise CorruptImageError(
                f'Cannot read image "{path}" ({reason}). Replace the file (it may be truncated '
                "or not an image; re-extract the dataset), or set DATALOADER.CORRUPT_IMAGE_POLICY "
                "skip to replace each unreadable image by another item of the same list."
            ) from error
        self.unreadable[index] = reason
        print(
            f'Warning: skipped unreadable image "{path}" ({reason}); replaced by the next readable '
            f"item. Unreadable images so far: {len(self.unreadable)}"
        )


def readable_part(batch, output, label):
    """``(output, label, number left out)``: the batch without the items that replace an
    unreadable image (the "skip" policy), which would count another image twice."""
    replaced = batch.get("replaced")
    if replaced is None or not bool(replaced.any()):
        return output, label, 0
    kept = ~replaced.to(label.device)
    return output[kept], label[kept], int(replaced.sum())
