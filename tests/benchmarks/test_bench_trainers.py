"""bench_trainers on the tiny CLIP: one warm-up and one timed step per row, JSON and ratios."""

import json

import pytest
import torch

from benchmarks import bench_trainers
from benchmarks.method_models import (
    build_method,
    build_random_clip,
    imagenet_classnames,
    method_cfg,
    train_step,
)
from benchmarks.straightforward import explicit_attention

METRICS = ("train_step_ms", "train_peak_mib", "eval_images_per_s", "eval_peak_mib")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "out.json"
    bench_trainers.main(
        [
            "--arch",
            "tiny",
            "--device",
            "cpu",
            "--classes",
            "6",
            "--batch-size",
            "2",
            "--steps",
            "1",
            "--warmup",
            "1",
            "--methods",
            "CoOp",
            "SEP",
            "--variants",
            "per_batch_text",
            "full_text_length",
            "--no-attention-check",
            "--json",
            str(path),
        ]
    )
    with open(path) as file:
        return json.load(file)


def rows_by_name(report):
    return {(row["method"], row["variant"]): row for row in report["results"]}


def test_json_has_a_row_per_method_and_variant_with_every_figure(report):
    rows = rows_by_name(report)
    assert set(rows) == {
        ("CoOp", None),
        ("SEP", None),
        ("SEP", "per_batch_text"),
        ("SEP", "full_text_length"),
    }
    for row in rows.values():
        assert row["classes"] == 6 and row["batch_size"] == 2 and row["precision"] == "fp32"
        for metric in METRICS:
            assert row[metric] is not None and row[metric] >= 0, (row["method"], metric)
        assert len(row["train_step_ms_each"]) == 1
    meta = report["meta"]
    assert meta["device"] == "cpu" and meta["torch"] == torch.__version__
    assert meta["memory_method"] in ("rss_peak_reset", "maxrss")


def test_coop_ratios_are_one_and_others_are_quotients(report):
    rows = rows_by_name(report)
    coop, sep = rows["CoOp", None], rows["SEP", None]
    for metric in ("train_step_ms", "eval_images_per_s"):
        assert coop["ratio_to_coop"][metric] == 1.0
        assert sep["ratio_to_coop"][metric] == pytest.approx(sep[metric] / coop[metric])
    variant = rows["SEP", "full_text_length"]
    assert variant["ratio_to_sep"]["train_step_ms"] == pytest.approx(
        variant["train_step_ms"] / sep["train_step_ms"]
    )
    assert "ratio_to_sep" not in sep


def test_per_batch_text_variant_caches_nothing(report):
    rows = rows_by_name(report)
    assert rows["SEP", "per_batch_text"]["text_features_ms"] is None
    assert rows["SEP", None]["text_features_ms"] > 0


def test_sep_step_dispatches_to_fused_attention_and_the_variant_does_not():
    """(d): nn.MultiheadAttention(need_weights=False) in CLIP and the TFMs runs PyTorch's
    scaled_dot_product_attention; the straightforward variant runs softmax and bmm instead."""
    device = torch.device("cpu")
    clip_model = build_random_clip("tiny", "fp32", device)
    built = build_method(
        "SEP", method_cfg("SEP", "tiny", "fp32"), imagenet_classnames(4), clip_model, device
    )
    image, label = torch.randn(2, 3, 32, 32), torch.tensor([0, 3])
    fused = bench_trainers.attention_ops(built, image, label)
    with explicit_attention():
        explicit = bench_trainers.attention_ops(built, image, label)
    assert "aten::scaled_dot_product_attention" in fused
    assert "aten::scaled_dot_product_attention" not in explicit
    assert "aten::softmax" in explicit and "aten::softmax" not in fused
    assert train_step(built, image, label) > 0
