import pytest

from tools.results.published import load_published, published_name, rows_for

# From docs/methods/sep.md, "Published numbers": 11-dataset averages, Base / New / HM.
SEP_MD_NUMBERS = {
    "CLIP": (69.34, 74.22, 71.70),
    "CoOp": (82.69, 63.22, 71.66),
    "CoCoOp": (80.47, 71.69, 75.83),
    "KgCoOp": (80.73, 73.60, 77.00),
    "MaPLe": (82.28, 75.14, 78.55),
    "PromptSRC": (84.26, 76.10, 79.97),
    "TCP": (84.13, 75.36, 79.51),
}


def test_shipped_base2new_averages_match_the_documented_numbers():
    rows = load_published()
    for method, (base, new, hm) in SEP_MD_NUMBERS.items():
        (row,) = rows_for(rows, "base2new", method)
        assert row.dataset == "average" and row.shots == 16 and row.backbone == "ViT-B/16"
        assert row.values == {"Base": base, "New": new, "HM": hm}
        assert row.reference


def test_sep_rows_are_present_and_to_fill():
    sep_rows = [row for row in load_published() if row.method == "SEP"]
    assert {row.protocol for row in sep_rows} >= {"base2new"}
    assert all(row.to_fill for row in sep_rows)


def test_trainer_names_map_to_published_methods():
    rows = load_published()
    assert published_name("ZeroshotCLIP", rows) == "CLIP"
    assert published_name("coop", rows) == "CoOp"
    assert published_name("SEP", rows) == "SEP"
    assert published_name("MaPLe", rows) == "MaPLe"  # not implemented here, still published
    assert published_name("ZeroshotCLIP2", rows) is None


HEADER = "protocol,method,dataset,shots,backbone,base,new,hm,accuracy,reference\n"


def test_comments_are_skipped_and_empty_cells_stay_empty(tmp_path):
    path = tmp_path / "published.csv"
    path.write_text(
        "# a comment\n" + HEADER + "  # indented comment\nbase2new,X,average,,,1.5,,,,r\n"
    )
    (row,) = load_published(str(path))
    assert (row.method, row.shots, row.values, row.to_fill) == ("X", None, {"Base": 1.5}, False)


def test_a_bad_number_names_its_row(tmp_path):
    path = tmp_path / "published.csv"
    path.write_text(HEADER + "base2new,X,average,16,,1.5,,,,r\nbase2new,Y,average,16,,abc,,,,r\n")
    with pytest.raises(ValueError, match="data row 2.*'abc'"):
        load_published(str(path))
