"""A full disk or a read-only location as one error that names the path, not torch's message.

torch.save reports a failed write as ``RuntimeError: [enforce fail at inline_container.cc]
PytorchStreamWriter failed writing file data/0: file write failed``; Python's own writes raise
OSError with an errno. Both become a DiskWriteError saying which path and what to do.
"""

import contextlib
import errno
import os
import shutil

from .user_errors import UserError

WRITE_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.EIO: "an input/output error (a failing disk or a lost network mount)",
    errno.EFBIG: "the file is larger than the file system allows",
}
# torch.save's messages for a write that failed (a full disk shows up as "unexpected pos")
TORCH_WRITE_FAILURE = ("PytorchStreamWriter failed", "file write failed", "unexpected pos")


class DiskWriteError(UserError, OSError):
    """A file that could not be written for lack of space or permission."""


def free_space(path):
    """Free bytes on the file system of ``path`` (or of its nearest existing parent), or None."""
    folder = os.path.abspath(path)
    while not os.path.exists(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def disk_write_error(path, error):
    """The DiskWriteError for ``error`` raised while writing ``path``."""
    number = getattr(error, "errno", None)
    reason = WRITE_ERRNOS.get(number) or "the write failed: is the disk full?"
    free = free_space(path)
    if free is not None:
        reason += f", {free / 2**20:.0f} MiB free there"
    space = number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or number not in WRITE_ERRNOS
    if number == errno.EIO:
        fix = "Check the disk (or the mount), or give another --output-dir."
    elif space:
        fix = "Free some space, or give another --output-dir."
    else:
        fix = "Give a writable --output-dir (or make the folder writable)."
    refused = DiskWriteError(f"Cannot write {path} ({reason}). {fix}")
    refused.errno = number
    return refused


def is_write_failure(error):
    if isinstance(error, OSError):
        return error.errno in WRITE_ERRNOS
    return isinstance(error, RuntimeError) and any(
        text in str(error) for text in TORCH_WRITE_FAILURE
    )


@contextlib.contextmanager
def clear_write_errors(path):
    """Turn a failed write under ``path`` into a DiskWriteError; other errors pass."""
    try:
        yield
    except (OSError, RuntimeError) as error:
        if isinstance(error, UserError) or not is_write_failure(error):
            raise
        raise disk_write_error(getattr(error, "filename", None) or path, error) from error
