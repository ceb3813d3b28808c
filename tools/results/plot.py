"""Grouped bar chart of one table column (HM for base-to-new) per dataset and method."""

import os

import numpy as np

from run.atomic_files import atomic_path
from tools.results.table import SD_SUFFIX

PLOT_FORMATS = ("png", "pdf", "svg")  # from the file name's suffix; png when it has none


def _series_name(row, several_shots):
    method = row.cells["Method"]
    return f"{method} ({row.cells['Shots']}-shot)" if several_shots else method


def plot_table(table, column, path, title=None):
    """Write a PNG with one bar group per dataset (and the average), one bar per method.

    Paper rows appear only where they have a number; difference rows are left out. Bars of rows
    with missing seeds or datasets are hatched; a missing number leaves no empty slot. A table
    built with the spread draws it as an error bar (± one sd over seeds). Returns the number of
    bars drawn.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for row in table.rows if row.kind != "diff"]
    several_shots = len({row.cells["Shots"] for row in rows if row.kind != "paper"}) > 1
    groups, series = [], {}
    for row in rows:
        dataset = row.cells["Dataset"]
        if dataset not in groups:
            groups.append(dataset)
        name = _series_name(row, several_shots)
        series.setdefault(name, {})[dataset] = (
            row.cells.get(column),
            row.flagged,
            row.cells.get(column + SD_SUFFIX),
        )

    # Each group holds only the bars that have a value, centred on the group's tick.
    present = [
        [name for name in series if series[name].get(group, (None,))[0] is not None]
        for group in groups
    ]
    bars_per_group = max([len(names) for names in present] + [1])
    bar_width = 0.8 / bars_per_group
    colours = {name: f"C{index % 10}" for index, name in enumerate(series)}
    figure_width = max(6.0, 0.35 * sum(len(names) for names in present) + 0.5 * len(groups) + 3)
    figure, axes = plt.subplots(figsize=(min(figure_width, 30.0), 4.5))
    positions = np.arange(len(groups))
    labelled = set()
    for position, group, names in zip(positions, groups, present):
        for slot, name in enumerate(names):
            value, flagged, sd = series[name][group]
            offset = position + bar_width * (slot - (len(names) - 1) / 2)
            axes.bar(
                offset,
                value,
                bar_width,
                color=colours[name],
                edgecolor="black",
                linewidth=0.4,
                hatch="//" if flagged else None,
                yerr=sd,
                capsize=2 if sd is not None else 0,
                label=None if name in labelled else name,
            )
            labelled.add(name)
    drawn = sum(len(names) for names in present)
    axes.set_xticks(positions)
    axes.set_xticklabels(groups, rotation=30, ha="right")
    axes.set_ylabel(f"{column} (%)")
    axes.set_title(title or f"{column} per dataset (hatched: missing seeds or datasets)")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    image_format = os.path.splitext(path)[1][1:].lower() or "png"
    with atomic_path(path) as tmp_path:
        figure.savefig(tmp_path, dpi=150, format=image_format)
    plt.close(figure)
    return drawn
