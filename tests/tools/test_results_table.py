import csv
import io

import pytest
from fake_run_writer import BASE2NEW_DATASETS, COOP, write_base2new_tree

import trainers
from tests.tolerances import RESULTS_CSV_ATOL
from tools.results.aggregate import summarize
from tools.results.protocols import PROTOCOLS
from tools.results.published import PublishedRow, load_published, published_name
from tools.results.table import build_table, render_csv, render_markdown, render_text

COOP_LABEL = "/".join(COOP)
SEP_LABEL = "SEP/vit_b16_ep50_ctxv1_opts-1a2b3c4d"


@pytest.fixture
def summary(runs):
    write_base2new_tree(runs)
    return summarize(runs.root, PROTOCOLS["base2new"], datasets=BASE2NEW_DATASETS)


def _markdown_rows(text):
    """Rows of the first Markdown table in ``text`` as dicts of header -> cell."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header = split[0]
    return [dict(zip(header, cells)) for cells in split[2:]]


def _summary_cells(summary):
    """(method, dataset, column) -> value from the summary, for every number in the table."""
    cells = {}
    for item in summary.methods:
        for row in item.rows:
            for column, value in row.values.items():
                cells[(item.method.label, row.label, column)] = value
    return cells


def test_markdown_round_trip_gives_the_numbers_at_two_decimals(summary):
    rows = _markdown_rows(render_markdown(build_table(summary)))
    assert len(rows) == 8  # 3 datasets + average, for two methods
    expected = _summary_cells(summary)
    for row in rows:
        for column in ("Base", "New", "HM"):
            value = expected[(row["Method"], row["Dataset"], column)]
            assert row[column] == ("-" if value is None else f"{value:.2f}")
    sep_dtd = next(row for row in rows if row["Method"] == SEP_LABEL and row["Dataset"] == "DTD")
    assert sep_dtd["Seeds"] == "base 3/3, new 2/3 !"


def test_csv_round_trip_gives_the_numbers_at_four_decimals(summary):
    rows = list(csv.DictReader(io.StringIO(render_csv(build_table(summary)))))
    assert list(rows[0]) == [
        "Method",
        "Shots",
        "Dataset",
        "Base",
        "New",
        "HM",
        "mean of HMs",
        "Seeds",
        "Note",
    ]
    expected = _summary_cells(summary)
    for row in rows:
        for column in ("Base", "New", "HM"):
            value = expected[(row["Method"], row["Dataset"], column)]
            if value is None:
                assert row[column] == ""
            else:
                assert float(row[column]) == pytest.approx(value, abs=RESULTS_CSV_ATOL)
    assert {row["Shots"] for row in rows} == {"16"}


def test_text_table_has_footnotes_and_warnings(summary):
    text = render_text(build_table(summary))
    assert "'HM' = harmonic mean of the averaged Base and New" in text
    assert "'mean of HMs' = mean of the per-dataset HMs" in text
    assert "Warnings (2):" in text and "missing run:" in text
    assert "2/3 datasets !" in text


def test_paper_rows_and_differences(summary):
    published = [
        PublishedRow(
            "base2new",
            "CoOp",
            "average",
            16,
            "ViT-B/16",
            {"Base": 82.69, "New": 63.22, "HM": 71.66},
            "CoCoOp paper",
        ),
        PublishedRow("base2new", "SEP", "average", 16, "ViT-B/16", {}, "to fill"),
        PublishedRow(
            "base2new",
            "MaPLe",
            "average",
            16,
            "ViT-B/16",
            {"Base": 82.28, "New": 75.14, "HM": 78.55},
            "MaPLe paper",
        ),
        PublishedRow(
            "cross_dataset", "CoOp", "average", 16, "ViT-B/16", {"Accuracy": 63.88}, "elsewhere"
        ),
    ]
    table = build_table(summary, published)
    rows = [(row.kind, row.cells) for row in table.rows]
    kinds = [kind for kind, _ in rows]
    assert kinds == ["dataset"] * 3 + ["average", "paper", "diff"] + ["dataset"] * 3 + [
        "average",
        "paper",
        "paper",
    ]
    coop_average = rows[3][1]
    paper, difference = rows[4][1], rows[5][1]
    assert paper["Method"] == "CoOp (paper)" and paper["Base"] == 82.69
    assert difference["Method"] == COOP_LABEL and difference["Dataset"] == "Average - paper"
    for column, published_value in (("Base", 82.69), ("New", 63.22), ("HM", 71.66)):
        assert difference[column] == pytest.approx(coop_average[column] - published_value)
    assert difference["Note"].startswith("! not comparable: averaged over 3/11 datasets")
    sep_paper = rows[10][1]
    assert sep_paper["Method"] == "SEP (paper)" and sep_paper["Base"] is None
    assert "to fill" in sep_paper["Note"]
    assert rows[11][1]["Method"] == "MaPLe (paper)" and rows[11][1]["HM"] == 78.55

    csv_rows = list(csv.DictReader(io.StringIO(render_csv(table))))
    assert csv_rows[5]["Base"] == f"{coop_average['Base'] - 82.69:+.4f}"


def test_shipped_published_rows_fit_the_table(summary):
    """Every method has its published base-to-new row: after each method run (in the summary's
    order), then the methods not run in the file's order."""
    published = load_published()
    table = build_table(summary, published)
    methods = [row.cells["Method"] for row in table.rows if row.kind == "paper"]
    run = [published_name(item.method.trainer, published) for item in summary.methods]
    file_order = dict.fromkeys(row.method for row in published if row.protocol == "base2new")
    expected = run + [method for method in file_order if method not in run]
    assert methods == [f"{method} (paper)" for method in expected]
    every_trainer = {published_name(trainer.__name__, published) for trainer in trainers.TRAINERS}
    assert None not in every_trainer and every_trainer <= set(expected)
