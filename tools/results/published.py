"""Published numbers (``published_results.csv``) and which trainer each belongs to (each
trainer declares its published name)."""

import csv
import os
from dataclasses import dataclass

import trainers

PUBLISHED_CSV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "published_results.csv")
PUBLISHED_CSV_HINT = "tools/results/published_results.csv"  # how messages name the file

# CSV column -> table column.
_VALUE_COLUMNS = {"base": "Base", "new": "New", "hm": "HM", "accuracy": "Accuracy"}


@dataclass(frozen=True)
class PublishedRow:
    protocol: str
    method: str
    dataset: str  # dataset config name, or "average"
    shots: int
    backbone: str
    values: dict  # table column -> float; empty when the numbers are still to fill
    reference: str

    @property
    def to_fill(self):
        return not self.values


def _parse_number(text, where):
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{where}: '{text}' is not a number") from None


def load_published(path=PUBLISHED_CSV):
    """Every row of the published-results file; lines starting with '#' are comments."""
    with open(path, encoding="utf-8", newline="") as csv_file:
        lines = [line for line in csv_file if line.strip() and not line.lstrip().startswith("#")]
    rows = []
    for line_number, record in enumerate(csv.DictReader(lines), start=2):
        where = f"{path} (data row {line_number - 1})"
        values = {
            column: _parse_number(record[name].strip(), where)
            for name, column in _VALUE_COLUMNS.items()
            if (record.get(name) or "").strip()
        }
        shots = (record.get("shots") or "").strip()
        rows.append(
            PublishedRow(
                protocol=record["protocol"].strip(),
                method=record["method"].strip(),
                dataset=record["dataset"].strip().lower(),
                shots=int(shots) if shots else None,
                backbone=(record.get("backbone") or "").strip(),
                values=values,
                reference=(record.get("reference") or "").strip(),
            )
        )
    return rows


def published_name(trainer, published_rows):
    """The published method name of a trainer (case-insensitive), or None if it has none.

    A registered trainer's name is its ``PUBLISHED_NAME`` or else its own; any other trainer
    (an output tree from another repository) matches a published method of the same name.
    ZeroshotCLIP2 (CoOp's prompt ensemble) is not the single-template CLIP the papers report.
    """
    declared = {
        cls.__name__.lower(): cls.PUBLISHED_NAME or cls.__name__ for cls in trainers.TRAINERS
    }
    name = declared.get(trainer.lower(), trainer)
    methods = {row.method.lower(): row.method for row in published_rows}
    return methods.get(name.lower())


def rows_for(published_rows, protocol, method):
    return [row for row in published_rows if row.protocol == protocol and row.method == method]
