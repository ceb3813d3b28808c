"""Evaluating with --model-dir / --load-epoch that do not fit ends in one message saying why."""

import os

import pytest
import torch

from tests.reliability.train_args import toy_argv, train_quietly

CSC_OPTIONS = ("TRAINER.COOP.CSC", True, "TRAINER.COOP.CTX_INIT", "")


@pytest.fixture(scope="module")
def trained_runs(toy, tmp_path_factory):
    """Two finished 1-epoch CoOp runs on the base classes: shared and class-specific context."""
    root = tmp_path_factory.mktemp("trained")
    runs = {"shared": root / "shared", "csc": root / "csc"}
    for name, options in (("shared", ()), ("csc", CSC_OPTIONS)):
        status, output = train_quietly(toy_argv(toy, runs[name], *options, "TEST.NO_TEST", True))
        assert status == 0, output[-2000:]
    return runs


def evaluate(run_train, toy, output_dir, model_dir, *options, subsample="new", flags=()):
    return run_train(
        toy_argv(
            toy,
            output_dir,
            "DATASET.SUBSAMPLE_CLASSES",
            subsample,
            *options,
            flags=["--eval-only", "--model-dir", model_dir, *flags],
        )
    )


def test_the_trained_run_evaluates(trained_runs, toy, tmp_path, run_train):
    result = evaluate(run_train, toy, tmp_path / "eval", trained_runs["shared"])
    assert result.status == 0, result.err
    assert os.path.isfile(tmp_path / "eval" / "result.json")


def test_model_dir_without_checkpoints_is_refused_before_anything_is_built(
    toy, tmp_path, run_train
):
    empty = tmp_path / "not_a_run"
    empty.mkdir()
    output_dir = tmp_path / "eval"
    result = evaluate(run_train, toy, output_dir, empty)
    assert result.status == 2
    assert f'Error: No checkpoints at "{empty}/prompt_learner"' in result.err
    assert "--model-dir must be the output folder of a training run" in result.err
    assert not os.path.exists(output_dir)


def test_load_epoch_that_was_not_saved_lists_the_saved_ones(trained_runs, toy, tmp_path, run_train):
    result = evaluate(
        run_train, toy, tmp_path / "eval", trained_runs["shared"], flags=["--load-epoch", "7"]
    )
    assert result.status == 2
    assert "No checkpoint for --load-epoch 7" in result.err
    assert "saved epochs: [1]" in result.err
    assert not os.path.exists(tmp_path / "eval")


def test_checkpoint_of_another_trainer_is_refused(toy, tmp_path, run_train):
    other = tmp_path / "cocoop_run" / "prompt_learner"
    other.mkdir(parents=True)
    # what a CoCoOp learner saves: a context plus its meta-net
    torch.save(
        {
            "state_dict": {"ctx": torch.zeros(4, 64), "meta_net.linear1.weight": torch.zeros(2, 2)},
            "epoch": 1,
        },
        other / "model.pth.tar-1",
    )
    result = evaluate(run_train, toy, tmp_path / "eval", other.parent)
    assert result.status == 2
    assert "does not match this trainer's learnable parameters" in result.err
    assert "meta_net.linear1.weight" in result.err
    assert "Was it written by another trainer" in result.err


def test_class_specific_context_of_another_class_count_is_refused(
    trained_runs, toy, tmp_path, run_train
):
    result = evaluate(
        run_train, toy, tmp_path / "eval", trained_runs["csc"], *CSC_OPTIONS, subsample="all"
    )
    assert result.status == 2
    assert '"ctx" has shape (3, 4, ' in result.err and "expects (6, 4, " in result.err
    assert "trained on another number of classes" in result.err


def test_unreadable_checkpoint_is_named(toy, tmp_path, run_train):
    broken = tmp_path / "broken_run" / "prompt_learner"
    broken.mkdir(parents=True)
    (broken / "model.pth.tar-1").write_bytes(b"PK\x03\x04 cut short")
    result = evaluate(run_train, toy, tmp_path / "eval", broken.parent)
    assert result.status == 2
    assert f'"{broken}/model.pth.tar-1" cannot be read' in result.err
