"""Wall-clock timing and peak-memory measurement on a CPU or a CUDA device.

Peak memory is reported as the growth above a baseline taken just before a model is built, so
that the frozen CLIP (built once and shared by every method of a run) is not counted:

- CUDA: ``torch.cuda.max_memory_allocated`` (tensors only, not the caching allocator's reserve);
  the absolute peak is reported too.
- CPU: the process's resident set. Linux lets a process reset its own peak RSS ("VmHWM") by
  writing ``5`` to ``/proc/self/clear_refs``, so each phase reads a fresh peak from
  ``/proc/self/status``; freed heap memory is handed back first (``malloc_trim``) so that a
  previous model's freed blocks are not silently reused. Without that interface (not Linux),
  ``resource.getrusage`` maxrss is used, which can only grow within a process: then only the
  first phase that raises it is meaningful, and the JSON says ``"memory_method": "maxrss"``.
  RSS counts everything the process touches (allocator slack, thread stacks), so CPU figures
  are coarser than CUDA's; psutil is not needed for either.
"""

import contextlib
import ctypes
import ctypes.util
import gc
import re
import resource
import statistics
import sys
import time

import torch

MIB = 2**20
_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_runs(function, steps, warmup, device):
    """Seconds of each of ``steps`` calls of ``function`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        function()
    synchronize(device)
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        function()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return seconds


def median(values):
    return statistics.median(values) if values else None


def _status_kib(field):
    with open(_STATUS) as status:
        match = re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE)
    return int(match.group(1))


def _can_reset_peak_rss():
    try:
        with open(_CLEAR_REFS, "w") as clear_refs:
            clear_refs.write("5")
        _status_kib("VmHWM")
        return True
    except (OSError, AttributeError):
        return False


def _release_freed_memory():
    gc.collect()
    library = ctypes.util.find_library("c")
    if library and sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(library).malloc_trim(0)
        except (OSError, AttributeError):
            pass


class MemoryMeter:
    """``baseline()`` before building a model, then ``phase()`` around each measured phase."""

    def __init__(self, device):
        self.device = device
        if device.type == "cuda":
            self.method = "cuda_max_memory_allocated"
        elif _can_reset_peak_rss():
            self.method = "rss_peak_reset"
        else:
            self.method = "maxrss"
        self._baseline = 0

    def _current_bytes(self):
        if self.device.type == "cuda":
            return torch.cuda.memory_allocated(self.device)
        if self.method == "rss_peak_reset":
            return _status_kib("VmRSS") * 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _peak_bytes(self):
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device)
        if self.method == "rss_peak_reset":
            return _status_kib("VmHWM") * 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _reset_peak(self):
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        elif self.method == "rss_peak_reset":
            with open(_CLEAR_REFS, "w") as clear_refs:
                clear_refs.write("5")

    def release(self):
        _release_freed_memory()
        if self.device.type == "cuda":
            synchronize(self.device)
            torch.cuda.empty_cache()

    def baseline(self):
        self.release()
        self._baseline = self._current_bytes()

    @contextlib.contextmanager
    def phase(self, result):
        """Fills ``result["peak_mib"]`` (above the baseline) and, on CUDA, ``peak_total_mib``."""
        synchronize(self.device)
        self._reset_peak()
        try:
            yield result
        finally:
            synchronize(self.device)
            peak = self._peak_bytes()
            result["peak_mib"] = max(peak - self._baseline, 0) / MIB
            if self.device.type == "cuda":
                result["peak_total_mib"] = peak / MIB
