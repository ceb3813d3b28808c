import pytest
import torch

from benchmarks.measure import MemoryMeter, median, timed_runs


def test_timed_runs_times_only_the_steps_after_warmup():
    calls = []
    seconds = timed_runs(lambda: calls.append(1), steps=3, warmup=2, device=torch.device("cpu"))
    assert len(calls) == 5 and len(seconds) == 3
    assert all(s >= 0 for s in seconds)
    assert median([3.0, 1.0, 2.0]) == 2.0


def test_cpu_peak_memory_sees_a_phase_allocation():
    meter = MemoryMeter(torch.device("cpu"))
    if meter.method != "rss_peak_reset":
        pytest.skip("peak RSS cannot be reset on this platform")
    meter.baseline()
    with meter.phase({}) as small:
        pass
    with meter.phase({}) as large:
        block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
        del block
    assert large["peak_mib"] >= 60
    assert small["peak_mib"] < large["peak_mib"] - 50  # the peak was reset between phases
