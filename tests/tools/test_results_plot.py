import statistics

import pytest
from fake_run_writer import BASE2NEW_DATASETS, write_base2new_tree

from tools.results.aggregate import summarize
from tools.results.plot import plot_table
from tools.results.protocols import PROTOCOLS
from tools.results.published import load_published
from tools.results.table import build_table


def test_hm_bar_chart_is_written_as_png(runs, tmp_path):
    write_base2new_tree(runs)
    summary = summarize(runs.root, PROTOCOLS["base2new"], datasets=BASE2NEW_DATASETS)
    path = tmp_path / "hm.png"
    drawn = plot_table(build_table(summary, load_published()), "HM", str(path))
    # CoOp: 3 datasets + average; SEP: 2 datasets + average; 9 published averages with numbers.
    assert drawn == 4 + 3 + 9
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_table_with_the_spread_draws_it_as_error_bars(runs, tmp_path, monkeypatch):
    import matplotlib.axes

    runs.base2new("toy", "SEP", "tiny", 1, base=50.0, new=40.0)
    runs.base2new("toy", "SEP", "tiny", 2, base=54.0, new=44.0)
    summary = summarize(runs.root, PROTOCOLS["base2new"], seeds=(1, 2))
    drawn_bars = []
    original_bar = matplotlib.axes.Axes.bar

    def recording_bar(self, x, height, *args, **kwargs):
        drawn_bars.append((height, kwargs.get("yerr")))
        return original_bar(self, x, height, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "bar", recording_bar)
    plot_table(build_table(summary, spread=True), "Base", str(tmp_path / "spread.png"))
    plot_table(build_table(summary), "Base", str(tmp_path / "plain.png"))
    sd = statistics.pstdev([50.0, 54.0])  # --std population, the default
    # toy and the average, with the spread; then the same bars without it
    assert drawn_bars == [(52.0, pytest.approx(sd)), (52.0, pytest.approx(sd))] + [(52.0, None)] * 2
