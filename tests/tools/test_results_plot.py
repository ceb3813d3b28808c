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
    # CoOp: 3 datasets + average; SEP: 2 datasets + average; 7 published averages with numbers.
    assert drawn == 4 + 3 + 7
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
