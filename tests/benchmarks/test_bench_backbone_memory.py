"""The backbone memory benchmark counts what a training step holds (on the tiny CLIP)."""

from benchmarks.bench_backbone_memory import MIB, step_memory
from tools.make_tiny_openclip import build_tiny_openclip


def test_frozen_bytes_are_the_weights_and_activations_grow_with_the_batch():
    small = step_memory("CoOp", "tiny", n_classes=3, batch=2)
    large = step_memory("CoOp", "tiny", n_classes=3, batch=4)
    weights = sum(p.numel() for p in build_tiny_openclip().parameters()) * 4  # fp32 bytes
    assert small["frozen_mib"] == weights / MIB
    # CoOp's published config: 4 context vectors of the text width 64, fp32; value, gradient
    # and SGD's momentum
    assert small["learned_mib"] == 3 * 4 * 64 * 4 / MIB
    assert large["learned_mib"] == small["learned_mib"]
    assert large["activations_mib"] > small["activations_mib"] > 0
