"""compare_results.py: argument mistakes end in one Error: line before any run is read, and runs
that do not belong in a mean (NaN, another dataset, other options) are flagged and left out."""

import csv
import json
import os

import pytest

from tests.tolerances import RESULTS_CSV_ATOL
from tests.tools.cli_checks import exit_status, one_error_line
from tools.compare_results import main


def three_seeds(runs, dataset="caltech101", bases=(70.0, 72.0, 74.0)):
    for seed, base in enumerate(bases, start=1):
        runs.base2new(dataset, "SEP", "tag", seed, base=base, new=60.0, base_json=base)


def base_dir(runs, seed, dataset="caltech101"):
    return runs.path("base2new", "train_base", dataset, "shots_16", "SEP", "tag", f"seed{seed}")


def csv_row(runs, tmp_path, capsys, dataset="Caltech101"):
    out = tmp_path / "table.csv"
    assert main([runs.root, "--datasets", "caltech101", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    with open(out, newline="") as csv_file:
        rows = {row["Dataset"]: row for row in csv.DictReader(csv_file)}
    return rows[dataset], err


@pytest.mark.parametrize(
    "option, make, problem",
    [
        ("--out", lambda tmp: tmp / "absent_folder" / "t.md", "does not exist"),
        ("--out", lambda tmp: tmp, "is a folder"),
        ("--plot", lambda tmp: tmp / "absent_folder" / "hm.png", "does not exist"),
        ("--plot", lambda tmp: tmp / "hm.txt", ".png, .pdf or .svg"),
    ],
)
def test_an_output_path_that_cannot_be_written_is_one_line(
    runs, tmp_path, capsys, option, make, problem
):
    three_seeds(runs)
    assert main([runs.root, option, str(make(tmp_path))]) == 2
    assert problem in one_error_line(capsys)


@pytest.mark.parametrize(
    "argv, problem",
    [
        (["--seeds", "1", "1"], "distinct seeds"),
        (["--seeds", "-1"], "distinct seeds >= 0"),
        (["--paper", "--published", "/no/such.csv"], "is not a file"),
    ],
)
def test_bad_arguments_are_one_line(runs, capsys, argv, problem):
    three_seeds(runs)
    assert main([runs.root, *argv]) == 2
    assert problem in one_error_line(capsys)


def test_an_output_root_that_is_not_a_folder_is_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "no_output")]) == 2
    assert "is not a folder" in one_error_line(capsys)


def test_an_unknown_option_is_one_line(runs, capsys):
    assert exit_status(main, [runs.root, "--protocl", "x"]) == 2
    one_error_line(capsys)


def test_a_nan_result_is_flagged_and_left_out_of_the_mean(runs, tmp_path, capsys):
    three_seeds(runs)
    with open(os.path.join(base_dir(runs, 2), "result.json")) as file:
        record = json.load(file)
    record["accuracy"] = float("nan")
    with open(os.path.join(base_dir(runs, 2), "result.json"), "w") as file:
        json.dump(record, file)
    row, err = csv_row(runs, tmp_path, capsys)
    assert float(row["Base"]) == pytest.approx((70.0 + 74.0) / 2, abs=RESULTS_CSV_ATOL)
    assert "2/3" in row["Seeds"] and "!" in row["Seeds"]
    assert "accuracy is nan" in err and "nan" not in row["Base"].lower()


def test_a_result_of_another_dataset_is_flagged_and_left_out(runs, tmp_path, capsys):
    three_seeds(runs)
    path = os.path.join(base_dir(runs, 3), "result.json")
    with open(path) as file:
        record = json.load(file)
    record["dataset"] = "DescribableTextures"
    with open(path, "w") as file:
        json.dump(record, file)
    row, err = csv_row(runs, tmp_path, capsys)
    assert float(row["Base"]) == pytest.approx(71.0, abs=RESULTS_CSV_ATOL)
    assert "does not belong here" in err and "DescribableTextures" in err


def test_a_seed_run_with_other_options_is_flagged_and_left_out(runs, tmp_path, capsys):
    three_seeds(runs)
    for seed in (1, 2, 3):
        options = {"SEED": seed, "OPTIM.LR": 0.002 if seed != 2 else 0.02}
        with open(os.path.join(base_dir(runs, seed), "run_options.json"), "w") as file:
            json.dump(options, file)
    row, err = csv_row(runs, tmp_path, capsys)
    assert float(row["Base"]) == pytest.approx(72.0, abs=RESULTS_CSV_ATOL)
    assert "other options" in err and "OPTIM.LR: 0.02 vs 0.002" in err
    assert "!" in row["Seeds"]


def test_seeds_differing_only_in_their_seed_are_averaged(runs, tmp_path, capsys):
    three_seeds(runs)
    for seed in (1, 2, 3):
        with open(os.path.join(base_dir(runs, seed), "run_options.json"), "w") as file:
            json.dump({"SEED": seed, "OPTIM.LR": 0.002}, file)
    row, err = csv_row(runs, tmp_path, capsys)
    assert float(row["Base"]) == pytest.approx(72.0, abs=RESULTS_CSV_ATOL)
    assert "other options" not in err and row["Seeds"] == "3/3"
