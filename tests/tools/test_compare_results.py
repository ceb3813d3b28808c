import csv
import os
import subprocess
import sys

import pytest
from fake_run_writer import BASE2NEW_DATASETS, COOP, expected_base2new_means, write_base2new_tree

from tests.tolerances import RESULTS_CSV_ATOL
from tools.compare_results import main

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASET_ARGS = ["--datasets"] + BASE2NEW_DATASETS


def test_script_prints_the_table_and_writes_the_plot(runs, tmp_path):
    write_base2new_tree(runs)
    plot_path = tmp_path / "hm.png"
    completed = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO_ROOT, "tools", "compare_results.py"),
            runs.root,
            "--plot",
            str(plot_path),
            "--paper",
        ]
        + DATASET_ARGS,
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        check=True,
    )
    means = expected_base2new_means()[COOP]
    base, new = means["dtd"]
    hm = 2 * base * new / (base + new)
    dtd_line = next(
        line
        for line in completed.stdout.splitlines()
        if line.startswith("CoOp/") and " DTD " in line
    )
    assert dtd_line.split() == [
        "/".join(COOP),
        "16",
        "DTD",
        f"{base:.2f}",
        f"{new:.2f}",
        f"{hm:.2f}",
        f"{hm:.2f}",  # a dataset's HM is the same under both conventions
        "3/3",
    ]
    assert "CoOp (paper)" in completed.stdout and "TCP (paper)" in completed.stdout
    assert plot_path.stat().st_size > 1000


def test_csv_out_file_round_trips_and_format_follows_the_suffix(runs, tmp_path, capsys):
    write_base2new_tree(runs)
    out = tmp_path / "table.csv"
    assert main([runs.root, "--out", str(out)] + DATASET_ARGS) == 0
    assert "warning: missing run:" in capsys.readouterr().err
    with open(out, newline="") as csv_file:
        rows = list(csv.DictReader(csv_file))
    means = expected_base2new_means()[COOP]
    coop_rows = {row["Dataset"]: row for row in rows if row["Method"] == "/".join(COOP)}
    for dataset, label in (("caltech101", "Caltech101"), ("dtd", "DTD"), ("eurosat", "EuroSAT")):
        base, new = means[dataset]
        assert float(coop_rows[label]["Base"]) == pytest.approx(base, abs=RESULTS_CSV_ATOL)
        assert float(coop_rows[label]["New"]) == pytest.approx(new, abs=RESULTS_CSV_ATOL)
    average_base = sum(base for base, _ in means.values()) / 3
    average_new = sum(new for _, new in means.values()) / 3
    average_hm = 2 * average_base * average_new / (average_base + average_new)
    assert float(coop_rows["Average"]["HM"]) == pytest.approx(average_hm, abs=RESULTS_CSV_ATOL)
    mean_of_hms = sum(2 * base * new / (base + new) for base, new in means.values()) / 3
    assert float(coop_rows["Average"]["mean of HMs"]) == pytest.approx(
        mean_of_hms, abs=RESULTS_CSV_ATOL
    )
    assert abs(mean_of_hms - average_hm) > 1e-3  # the two conventions differ on these numbers


def test_markdown_output_lists_the_missing_runs(runs, tmp_path, capsys):
    write_base2new_tree(runs)
    assert main([runs.root, "--format", "markdown"] + DATASET_ARGS) == 0
    text = capsys.readouterr().out
    assert text.startswith("| Method")
    assert "**Warnings (2)**" in text
    assert "test_new/dtd/shots_16/SEP/vit_b16_ep50_ctxv1_opts-1a2b3c4d/seed3" in text


def test_strict_fails_on_missing_runs_and_protocol_folder_is_accepted(runs, capsys):
    write_base2new_tree(runs)
    assert main([runs.root, "--strict"] + DATASET_ARGS) == 1
    assert (
        main(
            [
                os.path.join(runs.root, "base2new"),
                "--seeds",
                "1",
                "2",
                "--datasets",
                "caltech101",
                "dtd",
                "--strict",
            ]
        )
        == 0
    )
    capsys.readouterr()


def test_no_runs_of_the_protocol_is_an_error_naming_the_others(runs, capsys):
    write_base2new_tree(runs)
    assert main([runs.root, "--protocol", "few_shot"]) == 2
    assert "found base2new: pass --protocol" in capsys.readouterr().err


def _write_coop_runs(runs, digests):
    """CoOp's base-to-new runs on caltech101, one seed per entry of ``digests`` (the
    clip_weights_digest each result.json records)."""
    for seed, digest in enumerate(digests, start=1):
        fields = {"clip_weights_digest": digest}
        for stage, subsample in (("train_base", "base"), ("test_new", "new")):
            runs.run(
                runs.path("base2new", stage, "caltech101", "shots_16", *COOP, f"seed{seed}"),
                90.0,
                eval_only=stage == "test_new",
                json_accuracy=90.0,
                json_fields={**fields, "subsample": subsample, "seed": seed},
            )


def test_runs_of_two_different_clips_are_refused_in_one_table(runs, capsys):
    _write_coop_runs(runs, ["aaaa000000000000", "aaaa000000000000", "bbbb111111111111"])
    assert main([runs.root, "--datasets", "caltech101"]) == 2
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and err_lines[0].startswith("Error: ")
    assert "aaaa000000000000" in err_lines[0] and "bbbb111111111111" in err_lines[0]


def test_runs_of_one_clip_make_a_table(runs, capsys):
    _write_coop_runs(runs, ["aaaa000000000000"] * 3)
    assert main([runs.root, "--datasets", "caltech101"]) == 0
    assert "Error" not in capsys.readouterr().err
