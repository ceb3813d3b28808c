"""The comparison table: rows from a ProtocolSummary (and published numbers), rendered as a
terminal table, Markdown or CSV; optionally with the spread over seeds of every number (as
"mean ± sd" in the terminal and Markdown, as a "<column> sd" column beside it in CSV)."""

import csv
import io
from dataclasses import dataclass, field

from tabulate import SEPARATING_LINE, tabulate

from tools.results.aggregate import AVERAGE_KEY, FLAG
from tools.results.protocols import display_name
from tools.results.published import PUBLISHED_CSV_HINT, published_name, rows_for

PAPER_SUFFIX = " (paper)"
DIFF_SUFFIX = " - paper"
SD_SUFFIX = " sd"  # the spread column of a value column
TABLE_DECIMALS = 2  # terminal and Markdown, as papers print
CSV_DECIMALS = 4


@dataclass
class TableRow:
    cells: dict  # column -> str, int, float or None
    kind: str  # "dataset", "average", "paper" or "diff"
    group: int  # rows of one method (and its paper rows) share a group
    flagged: bool = False


@dataclass
class Table:
    columns: list  # with spread: each value column followed by its SD_SUFFIX column
    value_columns: list
    rows: list
    footnotes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    spread: bool = False


def _row_cells(method, shots, dataset, values, seeds, note):
    cells = {"Method": method, "Shots": shots, "Dataset": dataset}
    cells.update(values)
    cells.update({"Seeds": seeds, "Note": note})
    return cells


def _comparability_issues(summary, method_summary, our_row, paper_row):
    """Why a difference to the paper may not mean much (other shots, fewer datasets...)."""
    issues = []
    shots = method_summary.method.shots
    if paper_row.shots is not None and shots != paper_row.shots:
        issues.append(f"{shots} vs {paper_row.shots} shots")
    backbones = method_summary.backbones
    if paper_row.backbone and backbones and backbones != {paper_row.backbone}:
        issues.append(f"backbone {', '.join(sorted(backbones))} vs {paper_row.backbone}")
    if our_row.key == AVERAGE_KEY:
        paper_count = len(summary.protocol.default_datasets)
        if method_summary.datasets_averaged != paper_count:
            issues.append(
                f"averaged over {method_summary.datasets_averaged}/{paper_count} datasets"
            )
    if our_row.partial_seeds:
        issues.append("partial seeds")
    return issues


def _paper_rows(summary, method_summary, published_rows, group):
    """Paper row and difference row for each published row of this method's trainer."""
    ours = method_summary.method
    published_method = published_name(ours.trainer, published_rows)
    if published_method is None:
        return [], None
    ours_by_key = {row.key: row for row in method_summary.rows}
    rows = []
    for paper in rows_for(published_rows, summary.protocol.name, published_method):
        our_row = ours_by_key.get(paper.dataset)
        label = (
            our_row.label
            if our_row
            else ("Average" if paper.dataset == AVERAGE_KEY else display_name(paper.dataset))
        )
        columns = summary.protocol.value_columns
        note = f"to fill in {PUBLISHED_CSV_HINT}" if paper.to_fill else paper.reference
        rows.append(
            TableRow(
                _row_cells(
                    published_method + PAPER_SUFFIX,
                    paper.shots,
                    label,
                    {column: paper.values.get(column) for column in columns},
                    "",
                    note,
                ),
                "paper",
                group,
            )
        )
        if paper.to_fill or our_row is None:
            continue
        differences = {
            column: (
                our_row.values[column] - paper.values[column]
                if our_row.values.get(column) is not None and column in paper.values
                else None
            )
            for column in columns
        }
        issues = _comparability_issues(summary, method_summary, our_row, paper)
        note = f"{FLAG} not comparable: " + ", ".join(issues) if issues else "ours - paper"
        rows.append(
            TableRow(
                _row_cells(ours.label, ours.shots, label + DIFF_SUFFIX, differences, "", note),
                "diff",
                group,
                bool(issues),
            )
        )
    return rows, published_method


SD_LABELS = {
    "population": "population standard deviation (/ n)",
    "sample": "sample standard deviation (/ n - 1)",
}
SPREAD_NOTE = (
    "'±' (CSV: the 'sd' columns): {sd} over seeds of each seed's "
    "own value (for HM: the HM of that seed's Base and New). Average row: the standard "
    "deviation over seeds of each seed's average over the datasets (HM: the HM of that seed's "
    "averaged Base and New), over the seeds every averaged dataset has. No '±' where fewer "
    "than two seeds have a result."
)


def _footnotes(summary, with_paper, spread, std):
    seeds = " ".join(str(seed) for seed in summary.seeds)
    notes = [
        f"{summary.metric} in %, mean over seeds {seeds} (result.json for "
        f"{summary.runs_from_json} runs, log.txt for {summary.runs_from_log})."
    ]
    if summary.protocol.name == "base2new":
        notes.append(
            "HM of a dataset: harmonic mean of its mean Base and mean New. Average row, two "
            "conventions: 'HM' = harmonic mean of the averaged Base and New (as most papers "
            "report it); 'mean of HMs' = mean of the per-dataset HMs (as some papers do)."
        )
    elif summary.protocol.source_dataset:
        notes.append("Average (targets): mean over the target datasets; the source is not in it.")
    if spread:
        notes.append(SPREAD_NOTE.format(sd=SD_LABELS[std]))
    notes.append(
        f"Seeds: seeds with a result / seeds expected; '{FLAG}' marks missing data "
        "(see the warnings)."
    )
    if with_paper:
        notes.append(
            f"'{PAPER_SUFFIX.strip()}': published numbers; '{DIFF_SUFFIX.strip()}' rows: "
            "ours minus published."
        )
    return notes


def _spread_cells(row, value_columns, kind):
    return {column + SD_SUFFIX: row.spread(column, kind) for column in value_columns}


def build_table(summary, published_rows=None, spread=False, std="population"):
    """Table rows of a ProtocolSummary; with ``published_rows`` adds paper and difference rows
    after each method that has published numbers, then the published rows of methods not run;
    with ``spread``, our rows' standard deviations (``std``: population or sample) over seeds
    (the other rows have none)."""
    value_columns = list(summary.protocol.value_columns)
    shown = value_columns
    if spread:
        shown = [name for column in value_columns for name in (column, column + SD_SUFFIX)]
    columns = ["Method", "Shots", "Dataset"] + shown + ["Seeds", "Note"]
    rows = []
    matched_methods = set()
    for group, method_summary in enumerate(summary.methods):
        method = method_summary.method
        for row in method_summary.rows:
            values = dict(row.values)
            if spread:
                values.update(_spread_cells(row, value_columns, std))
            rows.append(
                TableRow(
                    _row_cells(method.label, method.shots, row.label, values, row.seeds, row.note),
                    "average" if row.key == AVERAGE_KEY else "dataset",
                    group,
                    row.flagged,
                )
            )
        if published_rows is not None:
            paper_rows, published_method = _paper_rows(
                summary, method_summary, published_rows, group
            )
            rows.extend(paper_rows)
            if published_method is not None:
                matched_methods.add(published_method)
    if published_rows is not None:
        group = len(summary.methods)
        for paper in published_rows:
            if paper.protocol != summary.protocol.name or paper.method in matched_methods:
                continue
            label = "Average" if paper.dataset == AVERAGE_KEY else display_name(paper.dataset)
            note = f"to fill in {PUBLISHED_CSV_HINT}" if paper.to_fill else paper.reference
            rows.append(
                TableRow(
                    _row_cells(
                        paper.method + PAPER_SUFFIX,
                        paper.shots,
                        label,
                        {column: paper.values.get(column) for column in value_columns},
                        "",
                        note,
                    ),
                    "paper",
                    group,
                )
            )
    return Table(
        columns,
        value_columns,
        rows,
        _footnotes(summary, published_rows is not None, spread, std),
        list(summary.warnings),
        spread,
    )


def _format_cell(value, kind, decimals, empty):
    if value is None:
        return empty
    if isinstance(value, float):
        return f"{value:+.{decimals}f}" if kind == "diff" else f"{value:.{decimals}f}"
    return str(value)


def _formatted_rows(table, decimals, empty):
    """Every column's cell as text (CSV: the spread in its own columns)."""
    return [
        [_format_cell(row.cells.get(column), row.kind, decimals, empty) for column in table.columns]
        for row in table.rows
    ]


def _shown_columns(table):
    """The columns of the terminal and Markdown tables: the spread joins its value's cell."""
    return [column for column in table.columns if not column.endswith(SD_SUFFIX)]


def _joined_rows(table, decimals, empty):
    """Cells of the shown columns; a value with a spread reads "mean ± sd"."""
    lines = []
    for row in table.rows:
        cells = []
        for column in _shown_columns(table):
            text = _format_cell(row.cells.get(column), row.kind, decimals, empty)
            sd = row.cells.get(column + SD_SUFFIX) if table.spread else None
            if sd is not None and row.cells.get(column) is not None:
                text += f" ± {sd:.{decimals}f}"
            cells.append(text)
        lines.append(cells)
    return lines


def _alignment(table):
    return [
        "right" if column in table.value_columns or column == "Shots" else "left"
        for column in _shown_columns(table)
    ]


def render_text(table):
    """A terminal table, one block per method, then the footnotes and warnings."""
    lines = []
    previous_group = None
    for row, cells in zip(table.rows, _joined_rows(table, TABLE_DECIMALS, "-")):
        if previous_group is not None and row.group != previous_group:
            lines.append(SEPARATING_LINE)
        lines.append(cells)
        previous_group = row.group
    parts = [
        tabulate(
            lines,
            headers=_shown_columns(table),
            tablefmt="simple",
            disable_numparse=True,
            colalign=_alignment(table),
        ),
        "",
    ]
    parts += [f"Note: {note}" for note in table.footnotes]
    if table.warnings:
        parts += ["", f"Warnings ({len(table.warnings)}):"]
        parts += [f"  - {warning}" for warning in table.warnings]
    return "\n".join(parts) + "\n"


def render_markdown(table):
    """A GitHub Markdown table followed by the footnotes and the warnings as lists."""
    cells = [
        [cell.replace("|", "\\|") for cell in row]
        for row in _joined_rows(table, TABLE_DECIMALS, "-")
    ]
    parts = [
        tabulate(
            cells,
            headers=_shown_columns(table),
            tablefmt="github",
            disable_numparse=True,
            colalign=_alignment(table),
        ),
        "",
    ]
    parts += [f"- {note}" for note in table.footnotes]
    if table.warnings:
        parts += ["", f"**Warnings ({len(table.warnings)})**", ""]
        parts += [f"- `{warning}`" for warning in table.warnings]
    return "\n".join(parts) + "\n"


def render_csv(table):
    """Plain CSV: the header, then one line per row; missing numbers are empty cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(_formatted_rows(table, CSV_DECIMALS, ""))
    return buffer.getvalue()


RENDERERS = {"table": render_text, "markdown": render_markdown, "csv": render_csv}
