import pytest
from fake_run_writer import (
    BASE2NEW_DATASETS,
    COOP,
    SEP,
    expected_base2new_means,
    write_base2new_tree,
)

from run import layout
from tests.tolerances import RESULTS_FP64_ATOL
from tools.results.aggregate import harmonic_mean, summarize
from tools.results.protocols import PROTOCOLS


def _hm(base, new):
    return 2 * base * new / (base + new)


def _by_label(summary):
    return {item.method.label: item for item in summary.methods}


def test_harmonic_mean():
    assert harmonic_mean(80.0, 60.0) == pytest.approx(480 / 7, abs=RESULTS_FP64_ATOL)  # 9600 / 140
    assert harmonic_mean(0.0, 0.0) == 0.0


def test_base2new_per_dataset_means_hm_and_average(runs):
    write_base2new_tree(runs)
    summary = summarize(runs.root, PROTOCOLS["base2new"], datasets=BASE2NEW_DATASETS)
    coop = _by_label(summary)["CoOp/vit_b16_ep50_ctxv1"]
    expected = expected_base2new_means()[COOP]
    for row in coop.rows[:-1]:
        base, new = expected[row.key]
        assert row.values["Base"] == pytest.approx(base, abs=RESULTS_FP64_ATOL)
        assert row.values["New"] == pytest.approx(new, abs=RESULTS_FP64_ATOL)
        assert row.values["HM"] == pytest.approx(_hm(base, new), abs=RESULTS_FP64_ATOL)
        assert (row.seeds, row.flagged) == ("3/3", False)
    average_base = sum(base for base, _ in expected.values()) / 3
    average_new = sum(new for _, new in expected.values()) / 3
    average = coop.average
    assert average.label == "Average" and average.seeds == "3/3 datasets"
    assert average.values["Base"] == pytest.approx(average_base, abs=RESULTS_FP64_ATOL)
    assert average.values["New"] == pytest.approx(average_new, abs=RESULTS_FP64_ATOL)
    assert average.values["HM"] == pytest.approx(
        _hm(average_base, average_new), abs=RESULTS_FP64_ATOL
    )
    mean_of_hms = sum(_hm(*means) for means in expected.values()) / 3
    assert abs(average.values["HM"] - mean_of_hms) > 0.1  # the paper way, not the mean of HMs


def test_result_json_value_is_used_where_present(runs):
    write_base2new_tree(runs)
    summary = summarize(runs.root, PROTOCOLS["base2new"], datasets=BASE2NEW_DATASETS)
    caltech = _by_label(summary)["SEP/vit_b16_ep50_ctxv1_opts-1a2b3c4d"].rows[0]
    assert caltech.values["Base"] == pytest.approx(
        (98.0437 + 98.2 + 97.9) / 3, abs=RESULTS_FP64_ATOL
    )
    # 29 runs are written, 2 of them with result.json.
    assert (summary.runs_from_json, summary.runs_from_log) == (2, 27)


def test_missing_seed_and_missing_dataset_are_flagged_not_averaged_silently(runs):
    write_base2new_tree(runs)
    summary = summarize(runs.root, PROTOCOLS["base2new"], datasets=BASE2NEW_DATASETS)
    sep = _by_label(summary)["SEP/vit_b16_ep50_ctxv1_opts-1a2b3c4d"]
    caltech, dtd, eurosat, average = sep.rows
    assert dtd.seeds == "base 3/3, new 2/3 !" and dtd.note == "New 2/3 seeds" and dtd.flagged
    assert dtd.values["New"] == pytest.approx((60.2 + 61.5) / 2, abs=RESULTS_FP64_ATOL)
    assert eurosat.values == {"Base": None, "New": None, "HM": None, "mean of HMs": None}
    assert eurosat.seeds == "0/3 !" and eurosat.note == "no Base runs; no New runs"
    assert average.seeds == "2/3 datasets !"
    assert average.note == "not in average: EuroSAT; partial seeds: DTD"
    expected = expected_base2new_means()[SEP]
    average_base = (expected["caltech101"][0] + expected["dtd"][0]) / 2
    assert average.values["Base"] == pytest.approx(average_base, abs=RESULTS_FP64_ATOL)

    missing_new = runs.path("base2new", "test_new", "dtd", "shots_16", *SEP, "seed3")
    assert f"missing run: {missing_new}" in summary.warnings
    eurosat_warnings = [w for w in summary.warnings if "eurosat" in w]
    assert len(eurosat_warnings) == 1 and eurosat_warnings[0].startswith(
        "SEP/vit_b16_ep50_ctxv1_opts-1a2b3c4d (16 shots): no base2new/train_base or "
        "base2new/test_new runs for eurosat"
    )


def test_standard_datasets_are_expected_by_default(runs):
    write_base2new_tree(runs)
    summary = summarize(runs.root, PROTOCOLS["base2new"])
    coop = _by_label(summary)["CoOp/vit_b16_ep50_ctxv1"]
    assert len(coop.rows) == 12 and coop.average.seeds == "3/11 datasets !"
    assert coop.datasets_averaged == 3 and coop.datasets_expected == 11


def test_toy_dataset_names_are_their_own_expectation(runs):
    for seed in (1, 2, 3):
        runs.base2new("toy_pets", "SEP", "tiny", seed, base=50.0 + seed, new=40.0)
    summary = summarize(runs.root, PROTOCOLS["base2new"])
    rows = summary.methods[0].rows
    assert [row.label for row in rows] == ["toy_pets", "Average"]
    assert rows[-1].seeds == "1/1 datasets" and summary.warnings == []


def test_seed_outside_the_expected_seeds_is_ignored_with_a_warning(runs):
    for seed in (1, 2, 3, 4):
        runs.base2new("toy", "SEP", "tiny", seed, base=50.0 + seed, new=40.0)
    summary = summarize(runs.root, PROTOCOLS["base2new"], seeds=(1, 2, 3))
    assert summary.methods[0].rows[0].values["Base"] == pytest.approx(52.0)
    assert len(summary.warnings) == 2 and all("seed not in --seeds" in w for w in summary.warnings)


def test_cross_dataset_source_targets_and_target_average(runs):
    for seed, (source, caltech, dtd) in {
        1: (71.2, 93.1, 44.5),
        2: (70.8, 93.9, 45.3),
        3: (71.0, 94.2, 46.0),
    }.items():
        runs.stage_run(("cross_dataset", "train"), "imagenet", "SEP", "xd", seed, source, False)
        runs.stage_run(("cross_dataset", "test"), "caltech101", "SEP", "xd", seed, caltech, True)
        runs.stage_run(("cross_dataset", "test"), "dtd", "SEP", "xd", seed, dtd, True)
    summary = summarize(runs.root, PROTOCOLS["cross_dataset"], datasets=["caltech101", "dtd"])
    rows = summary.methods[0].rows
    assert [row.label for row in rows] == [
        "ImageNet (source)",
        "Caltech101",
        "DTD",
        "Average (targets)",
    ]
    values = [row.values["Accuracy"] for row in rows]
    caltech, dtd = (93.1 + 93.9 + 94.2) / 3, (44.5 + 45.3 + 46.0) / 3
    assert values == pytest.approx([(71.2 + 70.8 + 71.0) / 3, caltech, dtd, (caltech + dtd) / 2])
    assert summary.warnings == []


def test_domain_generalization_takes_the_source_from_the_cross_dataset_training(runs):
    runs.stage_run(("cross_dataset", "train"), "imagenet", "SEP", "xd", 1, 71.5, False)
    runs.stage_run(("cross_dataset", "train"), "imagenet", "CoOp", "only_xd", 1, 70.0, False)
    runs.stage_run(("domain_generalization", "test"), "imagenet_a", "SEP", "xd", 1, 50.5, True)
    summary = summarize(runs.root, PROTOCOLS["domain_generalization"], seeds=(1,))
    assert [item.method.label for item in summary.methods] == ["SEP/xd"]
    rows = summary.methods[0].rows
    assert rows[0].values["Accuracy"] == 71.5 and rows[0].label == "ImageNet (source)"
    assert [row.label for row in rows[1:5]] == [
        "ImageNetV2",
        "ImageNet-Sketch",
        "ImageNet-A",
        "ImageNet-R",
    ]
    assert rows[-1].values["Accuracy"] == 50.5 and rows[-1].seeds == "1/4 datasets !"


def test_few_shot_keeps_each_number_of_shots_apart(runs):
    for shots, accuracy in ((1, 60.1), (16, 80.4)):
        runs.stage_run(("few_shot",), "toy", "CoOp", "tag", 1, accuracy, False, shots=shots)
    summary = summarize(runs.root, PROTOCOLS["few_shot"], seeds=(1,))
    found = [(item.method.shots, item.average.values["Accuracy"]) for item in summary.methods]
    assert found == [(1, 60.1), (16, 80.4)]


def test_large_dataset_runs_of_a_separate_config_count_for_the_method(runs):
    accuracies = {"caltech101": (95.0, 90.0), "imagenet": (76.0, 70.0), "sun397": (80.0, 77.0)}
    for dataset, (base, new) in accuracies.items():
        large = dataset in ("imagenet", "sun397")
        tag = "vit_b16_ep10_batch128" if large else "vit_b16_ep50_batch32"
        runs.base2new(dataset, "SEP", tag, 1, base=base, new=new)
    summary = summarize(
        runs.root, PROTOCOLS["base2new"], seeds=(1,), datasets=["imagenet", "caltech101", "sun397"]
    )
    (sep,) = summary.methods
    assert sep.method.label == "SEP/vit_b16_ep50_batch32"
    imagenet, caltech, sun, average = sep.rows
    assert imagenet.note == "config vit_b16_ep10_batch128" and caltech.note == ""
    assert average.seeds == "3/3 datasets"
    assert average.values["Base"] == pytest.approx((95.0 + 76.0 + 80.0) / 3)
    assert summary.warnings == []


def test_runs_in_the_published_layout_are_found_too(runs):
    """CoCoOp's, MaPLe's and PromptSRC's scripts write the ImageNet training at
    imagenet/<TRAINER>/<CFG>_<K>shots/seed<S> and every transfer evaluation at
    evaluation/<TRAINER>/<CFG>_<K>shots/<dataset>/seed<S> (run/layout.py)."""
    for seed, (source, dtd, sketch) in {1: (70.0, 45.0, 48.0), 2: (72.0, 47.0, 50.0)}.items():
        runs.run(layout.published_train_dir(runs.root, "imagenet", "MaPLe", "xd", 16, seed), source)
        for dataset, accuracy in (("dtd", dtd), ("imagenet_sketch", sketch)):
            folder = layout.published_evaluation_dir(runs.root, dataset, "MaPLe", "xd", 16, seed)
            runs.run(folder, accuracy, eval_only=True)
    summary = summarize(runs.root, PROTOCOLS["cross_dataset"], seeds=(1, 2), datasets=["dtd"])
    (maple,) = summary.methods
    assert (maple.method.label, maple.method.shots) == ("MaPLe/xd", 16)
    source, dtd_row, _average = maple.rows
    assert source.values["Accuracy"] == pytest.approx(71.0)
    assert dtd_row.values["Accuracy"] == pytest.approx(46.0)
    # the variants are domain generalisation's, not cross-dataset targets
    summary = summarize(runs.root, PROTOCOLS["domain_generalization"], seeds=(1, 2))
    sketch_row = next(row for row in summary.methods[0].rows if row.label == "ImageNet-Sketch")
    assert sketch_row.values["Accuracy"] == pytest.approx(49.0)


def test_few_shot_runs_in_the_published_layout_are_found_too(runs):
    for seed, accuracy in ((1, 60.0), (2, 62.0)):
        runs.run(layout.published_train_dir(runs.root, "dtd", "PromptSRC", "fs", 4, seed), accuracy)
    summary = summarize(runs.root, PROTOCOLS["few_shot"], seeds=(1, 2), datasets=["dtd"])
    (promptsrc,) = summary.methods
    assert (promptsrc.method.label, promptsrc.method.shots) == ("PromptSRC/fs", 4)
    assert promptsrc.rows[0].values["Accuracy"] == pytest.approx(61.0)
