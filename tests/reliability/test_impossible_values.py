"""Values with which a run would train or evaluate nothing (or something else than asked) are
refused before any work: one Error line naming the key and the fix, and no run folder."""

import os

import pytest

from tests.reliability.train_args import toy_argv

# (options or flags, text the Error line must hold)
IMPOSSIBLE = {
    "no epoch": (["OPTIM.MAX_EPOCH", 0], "OPTIM.MAX_EPOCH is 0; it must be at least 1"),
    "negative epochs": (["OPTIM.MAX_EPOCH", -3], "OPTIM.MAX_EPOCH is -3"),
    "zero shots": (["DATASET.NUM_SHOTS", 0], "DATASET.NUM_SHOTS (SHOTS in the scripts) is 0"),
    "negative shots": (["DATASET.NUM_SHOTS", -5], "DATASET.NUM_SHOTS (SHOTS in the scripts) is -5"),
    "negative seed": (["SEED", -2], "SEED (--seed) is -2: use a seed in 0..4294967295, or -1"),
    "empty batches": (["DATALOADER.TRAIN_X.BATCH_SIZE", 0], "DATALOADER.TRAIN_X.BATCH_SIZE is 0"),
    "empty test batches": (["DATALOADER.TEST.BATCH_SIZE", 0], "DATALOADER.TEST.BATCH_SIZE is 0"),
    "negative lr": (["OPTIM.LR", -0.002], "OPTIM.LR is -0.002; the learning rate must be > 0"),
    "zero lr": (["OPTIM.LR", 0.0], "OPTIM.LR is 0.0"),
    "negative weight decay": (["OPTIM.WEIGHT_DECAY", -0.1], "OPTIM.WEIGHT_DECAY is -0.1"),
    "optimizer typo": (["OPTIM.NAME", "sdg"], 'OPTIM.NAME "sdg" is not one of adam, amsgrad, sgd'),
    "scheduler typo": (
        ["OPTIM.LR_SCHEDULER", "cosin"],
        'OPTIM.LR_SCHEDULER "cosin" is not one of single_step, multi_step, cosine. '
        'Did you mean "cosine"?',
    ),
    "warm-up typo": (
        ["OPTIM.WARMUP_EPOCH", 1, "OPTIM.WARMUP_TYPE", "linaer"],
        'OPTIM.WARMUP_TYPE "linaer" is not one of constant, linear. Did you mean "linear"?',
    ),
    "test split typo": (["TEST.SPLIT", "tset"], 'TEST.SPLIT "tset" is not one of val, test.'),
    "negative workers": (["DATALOADER.NUM_WORKERS", -1], "DATALOADER.NUM_WORKERS is -1"),
}


@pytest.mark.parametrize("case", sorted(IMPOSSIBLE))
def test_impossible_value_is_refused_before_any_work(case, toy, tmp_path, run_train):
    options, expected = IMPOSSIBLE[case]
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, *options))
    assert result.status == 2
    assert result.err.count("Error: ") == 1 and expected in result.err, result.err
    assert "Traceback" not in result.err
    assert not os.path.exists(output_dir)  # no folder, no result.json


def test_optimizer_typo_names_the_closest_optimizer(toy, tmp_path, run_train):
    result = run_train(toy_argv(toy, tmp_path / "run", "OPTIM.NAME", "adamw_"))
    assert 'Did you mean "adamw"?' in result.err


def test_eval_only_without_a_model_dir_is_refused(toy, tmp_path, run_train):
    output_dir = tmp_path / "eval"
    result = run_train(toy_argv(toy, output_dir, flags=["--eval-only"]))
    assert result.status == 2
    assert "--eval-only needs --model-dir: CoOp would evaluate its untrained" in result.err
    assert not os.path.exists(output_dir)


def test_zero_shot_clip_evaluates_without_a_model_dir(toy, tmp_path, run_train):
    output_dir = tmp_path / "zs"
    result = run_train(toy_argv(toy, output_dir, trainer="ZeroshotCLIP", flags=["--eval-only"]))
    assert result.status == 0, result.err
    assert os.path.isfile(output_dir / "result.json")


def test_seed_minus_one_means_no_fixed_seed(toy_copy, tmp_path, run_train):
    output_dir = tmp_path / "zs"
    argv = toy_argv(toy_copy, output_dir, "SEED", -1, trainer="ZeroshotCLIP", flags=["--eval-only"])
    result = run_train(argv)
    assert result.status == 0, result.err
    assert "Setting fixed seed" not in result.out
