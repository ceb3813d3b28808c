"""Unknown trainer and dataset names are refused before anything is built, with the closest name."""

import os

import trainers
from tests.reliability.train_args import toy_argv


def test_mistyped_trainer_name_suggests_the_closest_and_lists_all(toy, tmp_path, run_train):
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, flags=["--trainer", "coop"]))
    assert result.status == 2
    assert 'TRAINER.NAME "coop" is not a known trainer. Did you mean "CoOp"?' in result.err
    known = result.err.split("Known trainers: ")[1]
    for trainer in trainers.TRAINERS:
        assert trainer.__name__ in known
    assert not os.path.exists(output_dir)


def test_missing_trainer_name_says_how_to_set_it(toy, tmp_path, run_train):
    result = run_train(toy_argv(toy, tmp_path / "run", flags=["--trainer", ""]))
    assert result.status == 2
    assert "No trainer given (TRAINER.NAME is empty): set it with --trainer NAME" in result.err


def test_mistyped_dataset_name_suggests_the_closest(toy, tmp_path, run_train):
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, "DATASET.NAME", "Caltech-101"))
    assert result.status == 2
    assert (
        'DATASET.NAME "Caltech-101" is not a known dataset. Did you mean "Caltech101"?'
        in result.err
    )
    assert "OxfordPets" in result.err  # the known names are listed
    assert not os.path.exists(output_dir)


def test_unrelated_dataset_name_gets_the_list_without_a_guess(toy, tmp_path, run_train):
    result = run_train(toy_argv(toy, tmp_path / "run", "DATASET.NAME", "zzzz"))
    assert result.status == 2
    assert "Did you mean" not in result.err
    assert "Known datasets: " in result.err and "DescribableTextures" in result.err
