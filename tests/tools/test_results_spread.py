"""compare_results.py --spread: mean ± standard deviation over seeds (--std), checked against a
plain computation from the hand-written runs of fake_run_writer."""

import csv
import statistics

import pytest
from fake_run_writer import (
    BASE2NEW_ACCURACIES,
    BASE2NEW_DATASETS,
    BASE2NEW_JSON,
    COOP,
    SEP,
    write_base2new_tree,
)

from tests.tolerances import RESULTS_CSV_ATOL
from tools.compare_results import main

DATASET_ARGS = ["--datasets"] + BASE2NEW_DATASETS
LABELS = {"caltech101": "Caltech101", "dtd": "DTD", "eurosat": "EuroSAT"}


def hm(base, new):
    return 2 * base * new / (base + new)


def seed_values(method, dataset):
    """{seed: (Base, New)} as compare_results reads them (result.json where written), only the
    seeds that have both."""
    values = {}
    for seed, (base, new) in BASE2NEW_ACCURACIES[method][dataset].items():
        base_json, new_json = BASE2NEW_JSON.get((method, dataset, seed), (None, None))
        if new is not None:
            values[seed] = (base_json or base, new_json or new)
    return values


def read_csv(path):
    with open(path, newline="") as csv_file:
        return list(csv.DictReader(csv_file))


@pytest.fixture
def spread_csv(runs, tmp_path, capsys):
    write_base2new_tree(runs)
    out = tmp_path / "table.csv"
    assert main([runs.root, "--spread", "--std", "sample", "--out", str(out)] + DATASET_ARGS) == 0
    capsys.readouterr()
    return read_csv(out)


def test_csv_has_an_sd_column_beside_each_value_column(spread_csv):
    assert list(spread_csv[0]) == [
        "Method",
        "Shots",
        "Dataset",
        "Base",
        "Base sd",
        "New",
        "New sd",
        "HM",
        "HM sd",
        "mean of HMs",
        "mean of HMs sd",
        "Seeds",
        "Note",
    ]


def test_dataset_spreads_are_the_sample_sd_of_the_per_seed_values(spread_csv):
    coop = {row["Dataset"]: row for row in spread_csv if row["Method"] == "/".join(COOP)}
    for dataset, label in LABELS.items():
        per_seed = seed_values(COOP, dataset).values()
        bases = [base for base, _ in per_seed]
        news = [new for _, new in per_seed]
        row = coop[label]
        assert float(row["Base"]) == pytest.approx(statistics.mean(bases), abs=RESULTS_CSV_ATOL)
        assert float(row["Base sd"]) == pytest.approx(statistics.stdev(bases), abs=RESULTS_CSV_ATOL)
        assert float(row["New sd"]) == pytest.approx(statistics.stdev(news), abs=RESULTS_CSV_ATOL)
        seed_hms = [hm(base, new) for base, new in per_seed]
        assert float(row["HM sd"]) == pytest.approx(
            statistics.stdev(seed_hms), abs=RESULTS_CSV_ATOL
        )
        # the cell's centre stays the table's HM: that of the mean Base and mean New
        assert float(row["HM"]) == pytest.approx(
            hm(statistics.mean(bases), statistics.mean(news)), abs=RESULTS_CSV_ATOL
        )


def test_average_spread_is_the_sd_over_seeds_of_the_per_seed_averages(spread_csv):
    average = next(
        row for row in spread_csv if row["Method"] == "/".join(COOP) and row["Dataset"] == "Average"
    )
    by_dataset = [seed_values(COOP, dataset) for dataset in LABELS]
    seeds = (1, 2, 3)
    base_s = [statistics.mean(values[seed][0] for values in by_dataset) for seed in seeds]
    new_s = [statistics.mean(values[seed][1] for values in by_dataset) for seed in seeds]
    mean_hm_s = [statistics.mean(hm(*values[seed]) for values in by_dataset) for seed in seeds]
    assert float(average["Base sd"]) == pytest.approx(
        statistics.stdev(base_s), abs=RESULTS_CSV_ATOL
    )
    assert float(average["New sd"]) == pytest.approx(statistics.stdev(new_s), abs=RESULTS_CSV_ATOL)
    assert float(average["HM sd"]) == pytest.approx(
        statistics.stdev([hm(b, n) for b, n in zip(base_s, new_s)]), abs=RESULTS_CSV_ATOL
    )
    assert float(average["mean of HMs sd"]) == pytest.approx(
        statistics.stdev(mean_hm_s), abs=RESULTS_CSV_ATOL
    )
    # the per-seed averages' mean is the Average row's mean
    assert float(average["Base"]) == pytest.approx(statistics.mean(base_s), abs=RESULTS_CSV_ATOL)


def test_missing_seeds_stay_marked_and_the_spread_uses_the_seeds_present(spread_csv):
    sep = {row["Dataset"]: row for row in spread_csv if row["Method"] == "/".join(SEP)}
    dtd = sep["DTD"]  # New of seed 3 is missing
    assert dtd["Seeds"] == "base 3/3, new 2/3 !"
    assert float(dtd["New sd"]) == pytest.approx(
        statistics.stdev([60.2, 61.5]), abs=RESULTS_CSV_ATOL
    )
    assert float(dtd["Base sd"]) == pytest.approx(
        statistics.stdev([82.3, 81.7, 82.9]), abs=RESULTS_CSV_ATOL
    )
    # the average over Caltech101 and DTD (EuroSAT has no runs) uses the seeds both have
    average = sep["Average"]
    assert average["Seeds"] == "2/3 datasets !" and "partial seeds: DTD" in average["Note"]
    pairs = [seed_values(SEP, dataset) for dataset in ("caltech101", "dtd")]
    new_s = [statistics.mean(values[seed][1] for values in pairs) for seed in (1, 2)]
    assert float(average["New sd"]) == pytest.approx(statistics.stdev(new_s), abs=RESULTS_CSV_ATOL)
    assert sep["EuroSAT"]["Base sd"] == "" and sep["EuroSAT"]["Seeds"] == "0/3 !"


def test_markdown_and_terminal_cells_read_mean_plus_minus_sd(runs, capsys):
    write_base2new_tree(runs)
    base, new = zip(*seed_values(COOP, "dtd").values())
    cell = f"{statistics.mean(base):.2f} ± {statistics.pstdev(base):.2f}"
    for output_format in ("markdown", "table"):
        args = [runs.root, "--spread", "--format", output_format, "--paper"]
        assert main(args + DATASET_ARGS) == 0
        text = capsys.readouterr().out
        dtd_line = next(
            line for line in text.splitlines() if "/".join(COOP) in line and " DTD " in line
        )
        assert cell in dtd_line
        assert "population standard deviation (/ n) over seeds" in text
        # published rows carry no spread
        paper_line = next(line for line in text.splitlines() if "CoOp (paper)" in line)
        assert "±" not in paper_line


def test_a_cell_with_one_seed_shows_no_spread(runs, tmp_path, capsys):
    runs.base2new("toy", "SEP", "tiny", 1, base=50.0, new=40.0)
    runs.base2new("toy", "SEP", "tiny", 2, base=54.0, new=None)
    out = tmp_path / "table.csv"
    assert main([runs.root, "--spread", "--seeds", "1", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    row = read_csv(out)[0]
    assert float(row["Base sd"]) == pytest.approx(
        statistics.pstdev([50.0, 54.0]), abs=RESULTS_CSV_ATOL
    )
    assert row["New"] == "40.0000" and row["New sd"] == "" and row["HM sd"] == ""
    assert row["Seeds"] == "base 2/2, new 1/2 !"
    assert main([runs.root, "--spread", "--seeds", "1", "2"]) == 0
    toy_line = next(line for line in capsys.readouterr().out.splitlines() if " toy " in line)
    assert "40.00 " in toy_line and "40.00 ±" not in toy_line


def test_spread_over_a_single_seed_is_refused(runs, capsys):
    runs.base2new("toy", "SEP", "tiny", 1, base=50.0, new=40.0)
    assert main([runs.root, "--spread", "--seeds", "1"]) == 2
    assert "--spread needs at least two --seeds" in capsys.readouterr().err


def test_accuracy_protocols_have_the_spread_too(runs, tmp_path, capsys):
    accuracies = {1: (93.1, 44.5), 2: (93.9, 45.3), 3: (94.2, 46.0)}
    for seed, (caltech, dtd) in accuracies.items():
        runs.stage_run(("cross_dataset", "train"), "imagenet", "SEP", "xd", seed, 71.0, False)
        runs.stage_run(("cross_dataset", "test"), "caltech101", "SEP", "xd", seed, caltech, True)
        runs.stage_run(("cross_dataset", "test"), "dtd", "SEP", "xd", seed, dtd, True)
    out = tmp_path / "xd.csv"
    args = ["--protocol", "cross_dataset", "--datasets", "caltech101", "dtd", "--spread"]
    assert main([runs.root, *args, "--out", str(out)]) == 0
    capsys.readouterr()
    rows = {row["Dataset"]: row for row in read_csv(out)}
    dtd = [value for _, value in accuracies.values()]
    assert float(rows["DTD"]["Accuracy sd"]) == pytest.approx(
        statistics.pstdev(dtd), abs=RESULTS_CSV_ATOL
    )
    seed_averages = [statistics.mean(pair) for pair in accuracies.values()]
    assert float(rows["Average (targets)"]["Accuracy sd"]) == pytest.approx(
        statistics.pstdev(seed_averages), abs=RESULTS_CSV_ATOL
    )
    assert float(rows["ImageNet (source)"]["Accuracy sd"]) == 0.0


def test_the_default_spread_is_the_population_sd_as_parse_test_res(runs, tmp_path, capsys):
    for seed, base in ((1, 50.0), (2, 54.0), (3, 58.0)):
        runs.base2new("toy", "SEP", "tiny", seed, base=base, new=40.0)
    for kind, expected in (("population", statistics.pstdev), ("sample", statistics.stdev)):
        out = tmp_path / f"{kind}.csv"
        argv = [runs.root, "--spread", "--out", str(out)]
        assert main(argv + (["--std", kind] if kind == "sample" else [])) == 0
        assert f"{kind} standard deviation" in capsys.readouterr().err
        row = read_csv(out)[0]
        assert float(row["Base sd"]) == pytest.approx(
            expected([50.0, 54.0, 58.0]), abs=RESULTS_CSV_ATOL
        )
