"""bench_distributed.py in one process (the torchrun rows need GPUs): one row per method and
global batch, images/s consistent with the step time."""

import json

import pytest

from benchmarks import bench_distributed


@pytest.mark.slow
def test_one_process_rows_have_the_step_time_and_throughput(tmp_path):
    out = tmp_path / "rows.json"
    argv = ["--arch", "tiny", "--methods", "SEP", "CoOp", "--classes", "4", "--global-batch", "2"]
    bench_distributed.main([*argv, "--precision", "fp32", "--steps", "1", "--warmup", "0",
                            "--json", str(out)])  # fmt: skip
    rows = json.loads(out.read_text())
    assert [(row["method"], row["global_batch"], row["processes"]) for row in rows] == [
        ("SEP", 2, 1),
        ("CoOp", 2, 1),
    ]
    for row in rows:
        assert row["step_ms"] > 0
        assert row["images_per_s"] == pytest.approx(2 / (row["step_ms"] / 1000))
