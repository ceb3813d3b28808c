"""Tee everything printed to stdout into a log file."""

import os
import sys
import time

from .tools import mkdir_if_missing

__all__ = ["Logger", "setup_logger"]


class Logger:
    """A stdout replacement that writes to the console and to ``fpath``."""

    def __init__(self, fpath=None):
        self.console = sys.stdout
        self.file = None
        if fpath is not None:
            mkdir_if_missing(os.path.dirname(fpath))
            self.file = open(fpath, "w", buffering=1)  # a killed run's log ends where it died

    def write(self, msg):
        self.console.write(msg)
        if self.file is not None:
            self.file.write(msg)

    def flush(self):
        self.console.flush()
        if self.file is not None:
            self.file.flush()
            os.fsync(self.file.fileno())

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None

    def __getattr__(self, name):
        # callers may ask for attributes of the real stream (encoding, fileno, isatty)
        if name == "console":
            raise AttributeError(name)
        return getattr(self.console, name)


def setup_logger(output=None):
    """Redirect stdout to a Logger writing ``output`` (a .txt/.log path, or ``<dir>/log.txt``).

    An existing log is never overwritten: the new one gets a ``-%Y-%m-%d-%H-%M-%S`` suffix.
    Returns the log path (None when ``output`` is None).
    """
    if output is None:
        return None
    if output.endswith(".txt") or output.endswith(".log"):
        fpath = output
    else:
        fpath = os.path.join(output, "log.txt")
    if os.path.exists(fpath):
        fpath += time.strftime("-%Y-%m-%d-%H-%M-%S")
    sys.stdout = Logger(fpath)
    return fpath
