"""What every command-line tool shares with train.py: a user mistake ends in one ``Error: ...``
line on stderr and status 2, Ctrl-C in one line and status 130, and a full or read-only disk in
one line naming the path. Any other exception is a bug and keeps its traceback."""

import argparse
import functools
import os
import sys
from collections.abc import Callable

from .disk_errors import disk_write_error, is_write_failure
from .user_errors import ConfigError, UserError, short_message

USER_ERROR_STATUS = 2
INTERRUPTED_STATUS = 130
MAX_SEED = 2**32 - 1  # numpy's generators take seeds up to this, as train.py


class ToolArgumentParser(argparse.ArgumentParser):
    """argparse, with a bad command line reported as one ``Error:`` line (not usage + error)."""

    def error(self, message):
        print(f"Error: {self.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(USER_ERROR_STATUS)


def refuse(condition: bool, message: str) -> None:
    """Raise a ConfigError with ``message`` when ``condition`` holds (an argument check)."""
    if condition:
        raise ConfigError(message)


def check_minimums(*checks: tuple) -> None:
    """Each check is ``(option, values, minimum)``: refuse ``values`` (a number or a list; None
    = unset) with any entry below ``minimum``."""
    for option, values, minimum in checks:
        listed = values if isinstance(values, (list, tuple)) else [values]
        low = [value for value in listed if value is not None and value < minimum]
        refuse(bool(low), f"{option} {low[0] if low else ''}: give a value >= {minimum}")


def check_output_file(option: str, path) -> None:
    """Refuse an output file (None = none) that is a folder or cannot be written."""
    if path is None:
        return
    refuse(os.path.isdir(path), f'{option} "{path}" is a folder: give a file to write')
    check_writable_folder(f'{option} "{path}"', os.path.dirname(os.path.abspath(path)))


def check_seed(seed: int, option: str = "--seed") -> None:
    refuse(not 0 <= seed <= MAX_SEED, f"{option} {seed}: give a seed in 0..{MAX_SEED}")


def check_writable_folder(option: str, folder: str) -> None:
    """Refuse a ``folder`` to write into that is a file, lies under a file, or cannot be
    created or written (it may not exist yet)."""
    existing = os.path.abspath(folder)
    while not os.path.isdir(existing):
        refuse(os.path.lexists(existing), f'{option}: "{existing}" is a file, not a folder')
        existing = os.path.dirname(existing)
    refuse(
        not os.access(existing, os.W_OK | os.X_OK),
        f'{option}: "{existing}" is not writable; give a writable location',
    )


def reports_user_errors(main: Callable[..., int]) -> Callable[..., int]:
    """``main(argv)`` whose user errors, write failures and Ctrl-C each end in one line."""

    @functools.wraps(main)
    def wrapper(argv=None):
        try:
            return main(argv)
        except KeyboardInterrupt:
            print("Interrupted; nothing half-written was left behind.", file=sys.stderr)
            return INTERRUPTED_STATUS
        except (UserError, OSError) as error:
            if not isinstance(error, UserError):
                if not is_write_failure(error):
                    raise
                error = disk_write_error(getattr(error, "filename", None) or "?", error)
            print(f"Error: {short_message(error)}", file=sys.stderr)
            return USER_ERROR_STATUS

    return wrapper
