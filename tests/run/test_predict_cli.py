"""predict.py's command line: answers on stdout, --out files written once, one-line errors."""

import csv
import json
import os
import re

import pytest

import predict
from run.config import project_cfg_default
from run.run_folder import RUN_OPTIONS_FILE, run_options
from tests.datasets.own_data_fixtures import write_image
from tests.tolerances import fp32_sum_rtol


def run_predict(capsys, *argv):
    status = predict.cli([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def fake_run(folder, mode_eval=False, **changes):
    """A folder with the run_options.json of a CoOp training run (no checkpoint)."""
    cfg = project_cfg_default()
    cfg.TRAINER.NAME = "CoOp"
    options = run_options(cfg, eval_only=mode_eval)
    options.update(changes)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, RUN_OPTIONS_FILE), "w") as file:
        json.dump(options, file)
    return folder


def assert_one_error(status, err, pattern):
    assert status == 2
    errors = [line for line in err.strip().splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and err.strip().endswith(errors[0]), err
    assert re.search(pattern, errors[0]), errors[0]


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "img.png"
    write_image(str(path), 100)
    return path


def test_folder_that_is_not_a_run_is_refused(capsys, tmp_path, image):
    status, out, err = run_predict(capsys, "--run", tmp_path, image)
    assert_one_error(status, err, "is not a run folder")
    assert out == ""


def test_evaluation_folder_is_refused_naming_what_to_give(capsys, tmp_path, image):
    run = fake_run(str(tmp_path / "eval"), mode_eval=True)
    status, _, err = run_predict(capsys, "--run", run, image)
    assert_one_error(status, err, "evaluation .* holds no weights: give the training run")


def test_run_of_an_unknown_method_is_refused(capsys, tmp_path, image):
    run = fake_run(str(tmp_path / "run"), **{"TRAINER.NAME": "CoOpp"})
    status, _, err = run_predict(capsys, "--run", run, image)
    assert_one_error(status, err, 'TRAINER.NAME "CoOpp" is not a known trainer.*"CoOp"')


def test_options_that_change_the_model_are_refused(capsys, tmp_path, image):
    run = fake_run(str(tmp_path / "run"))
    status, _, err = run_predict(capsys, "--run", run, image, "--opts", "TRAINER.COOP.N_CTX", 8)
    assert_one_error(status, err, "trained with TRAINER.COOP.N_CTX 16, but the config given sets 8")


def test_existing_out_file_is_refused_before_any_work(capsys, tmp_path, image):
    out_file = tmp_path / "answers.csv"
    out_file.write_text("keep me")
    status, _, err = run_predict(capsys, "--run", tmp_path, image, "--out", out_file)
    assert_one_error(status, err, "already exists; it is never overwritten")
    assert out_file.read_text() == "keep me"
    status, _, err = run_predict(capsys, "--run", tmp_path, image, "--out", tmp_path / "a.txt")
    assert_one_error(status, err, "name a .csv or .json file")


def test_no_image_found_is_refused(capsys, tmp_path):
    run = fake_run(str(tmp_path / "run"))
    status, _, err = run_predict(capsys, "--run", run, tmp_path / "nothing*.png")
    assert_one_error(status, err, "no file matches it")


@pytest.mark.slow
def test_answers_on_stdout_and_in_csv_and_json(capsys, own_runs, tmp_path):
    run = own_runs.run("CoOp")
    folder = os.path.join(own_runs.data_root, "shapes", "red_circle")
    status, out, _ = run_predict(
        capsys, "--run", run, folder, "--top-k", 2, "--out", tmp_path / "a.csv"
    )
    assert status == 0
    lines = [line for line in out.splitlines() if line.startswith(folder)]
    assert len(lines) == 12 and all(line.count("%") == 2 for line in lines)
    with open(tmp_path / "a.csv") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 24 and {row["rank"] for row in rows} == {"1", "2"}
    first = [row for row in rows if row["image"] == rows[0]["image"]]
    assert float(first[0]["probability"]) >= float(first[1]["probability"])
    assert lines[0].startswith(f"{rows[0]['image']}: {rows[0]['class']} ")

    status, _, _ = run_predict(
        capsys,
        "--run",
        run,
        folder,
        "--classes",
        "red circle",
        "blue moon",
        "--out",
        tmp_path / "a.json",
    )
    record = json.loads((tmp_path / "a.json").read_text())
    assert status == 0 and record["method"] == "CoOp"
    assert record["classes"] == ["red circle", "blue moon"] and len(record["predictions"]) == 12
    # The fp32 softmax over both classes divides each rounded exp by their fp32 sum: the exps'
    # own rounding cancels in the total, which carries the sum's accumulation and each term's
    # division (a reciprocal and a product: 2 roundings); JSON keeps the floats exactly.
    sums_to_one = fp32_sum_rtol(n_terms=len(record["classes"]), roundings_per_term=2)
    for answer in record["predictions"]:
        assert len(answer["top"]) == len(record["classes"])
        assert sum(entry["probability"] for entry in answer["top"]) == pytest.approx(
            1, abs=sums_to_one
        )


@pytest.mark.slow
def test_unreadable_image_stops_or_is_skipped_and_counted(capsys, own_runs, tmp_path):
    run = own_runs.run("CoOp")
    good = os.path.join(own_runs.data_root, "shapes", "red_circle")
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    status, _, err = run_predict(capsys, "--run", run, good, bad)
    assert_one_error(status, err, 'Cannot read image ".*broken.png"')
    status, out, _ = run_predict(
        capsys, "--run", run, good, bad, "--opts", "DATALOADER.CORRUPT_IMAGE_POLICY", "skip"
    )
    assert status == 0 and "Skipped 1 unreadable images" in out
    assert "broken.png:" not in out and out.count(good) == 12


@pytest.mark.slow
def test_checkpoint_of_other_options_is_refused(capsys, own_runs, tmp_path, image):
    """A run folder whose checkpoint does not fit its recorded options (here: class-specific
    context, one per class, where the checkpoint holds one shared context)."""
    run = own_runs.run("CoOp")
    with open(os.path.join(run, RUN_OPTIONS_FILE)) as file:
        options = json.load(file)
    options["TRAINER.COOP.CSC"] = True
    copy = tmp_path / "copy"
    fake_run(str(copy), **options)
    os.symlink(os.path.join(run, "prompt_learner"), copy / "prompt_learner")
    status, _, err = run_predict(capsys, "--run", copy, image, "--classes", "a", "b")
    assert_one_error(status, err, r'"ctx" has shape \(4, 64\) but this model expects \(2, 4, 64\)')
