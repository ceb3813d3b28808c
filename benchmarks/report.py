"""Ratios between benchmark rows and the tables the benchmark prints."""

from tabulate import tabulate

from benchmarks.straightforward import VARIED_METHOD
from trainers.coop import CoOp

# Every method's figures are divided by CoOp's, the plainest prompt learner (one learned context
# through CLIP's text encoder), so that a ratio prices what a method adds to it; the rows keep
# them as ``ratio_to_coop`` and the variants' ratios to their method's default as
# ``ratio_to_sep``.
REFERENCE_METHOD = CoOp.__name__

# Figures given as ratios (plain quotients; for time and memory lower is better, for images/s
# higher)
RATIO_METRICS = (
    "train_step_ms",
    "train_peak_mib",
    "eval_images_per_s",
    "eval_peak_mib",
    "text_features_ms",
)


def _ratio(value, reference):
    if value is None or reference is None or reference <= 0:
        return None
    return value / reference


def ratios(row, reference_row):
    if reference_row is None:
        return {metric: None for metric in RATIO_METRICS}
    return {metric: _ratio(row.get(metric), reference_row.get(metric)) for metric in RATIO_METRICS}


def default_row(rows, method):
    """``method``'s row without a variant, or None."""
    return next((r for r in rows if r["method"] == method and r["variant"] is None), None)


def add_ratios(rows):
    """``ratio_to_coop`` on every row, ``ratio_to_sep`` on the varied method's variants, per
    (classes, batch)."""
    groups = {}
    for row in rows:
        groups.setdefault((row["classes"], row["batch_size"]), []).append(row)
    for group in groups.values():
        coop = default_row(group, REFERENCE_METHOD)
        sep = default_row(group, VARIED_METHOD)
        for row in group:
            row["ratio_to_coop"] = ratios(row, coop)
            if row["method"] == VARIED_METHOD and row["variant"] is not None:
                row["ratio_to_sep"] = ratios(row, sep)
    return rows


def _number(value, digits=1):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _times(value):
    return "-" if value is None else f"{value:.2f}x"


def _label(row):
    return row["method"] if row["variant"] is None else f"{row['method']}[{row['variant']}]"


def _status(row):
    return row.get("error", "")


def methods_table(rows):
    header = [
        "classes",
        "batch",
        "method",
        "prec",
        "train ms",
        f"x {REFERENCE_METHOD}",
        "train MiB",
        f"x {REFERENCE_METHOD}",
        "eval img/s",
        f"x {REFERENCE_METHOD}",
        "text feats ms",
        "eval MiB",
        f"x {REFERENCE_METHOD}",
        "trained params",
        "note",
    ]
    body = []
    for row in rows:
        if row["variant"] is not None:
            continue
        ratio = row["ratio_to_coop"]
        body.append(
            [
                row["classes"],
                row["batch_size"],
                _label(row),
                row["precision"],
                _number(row.get("train_step_ms")),
                _times(ratio["train_step_ms"]),
                _number(row.get("train_peak_mib")),
                _times(ratio["train_peak_mib"]),
                _number(row.get("eval_images_per_s")),
                _times(ratio["eval_images_per_s"]),
                _number(row.get("text_features_ms")),
                _number(row.get("eval_peak_mib")),
                _times(ratio["eval_peak_mib"]),
                f"{row.get('trained_parameters', 0):,}",
                _status(row),
            ]
        )
    return tabulate(body, headers=header, disable_numparse=True)


def variants_table(rows):
    header = [
        "classes",
        "batch",
        "variant",
        "prec",
        "train ms",
        f"x {VARIED_METHOD}",
        "train MiB",
        f"x {VARIED_METHOD}",
        "eval img/s",
        f"x {VARIED_METHOD}",
        "eval MiB",
        f"x {VARIED_METHOD}",
        "note",
    ]
    body = []
    for row in rows:
        if row["method"] != VARIED_METHOD:
            continue
        ratio = row.get("ratio_to_sep") or {m: (1.0 if row.get(m) else None) for m in RATIO_METRICS}
        body.append(
            [
                row["classes"],
                row["batch_size"],
                row["variant"] or "default",
                row["precision"],
                _number(row.get("train_step_ms")),
                _times(ratio["train_step_ms"]),
                _number(row.get("train_peak_mib")),
                _times(ratio["train_peak_mib"]),
                _number(row.get("eval_images_per_s")),
                _times(ratio["eval_images_per_s"]),
                _number(row.get("eval_peak_mib")),
                _times(ratio["eval_peak_mib"]),
                _status(row),
            ]
        )
    return tabulate(body, headers=header, disable_numparse=True)


def breakdown_table(breakdowns):
    header = ["classes", "batch", f"part of {VARIED_METHOD}'s step", "ms", "share of step"]
    body = []
    for entry in breakdowns:
        step = entry["parts_ms"].get("full_step")
        for part, ms in entry["parts_ms"].items():
            share = None if not step or ms is None else ms / step
            body.append(
                [
                    entry["classes"],
                    entry["batch_size"],
                    part,
                    _number(ms),
                    "-" if share is None else f"{share:.0%}",
                ]
            )
    return tabulate(body, headers=header, disable_numparse=True)
