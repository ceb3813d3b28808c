"""Mistyped config keys and wrong value types, in a YAML file or on the command line, are refused
with the key, where it came from, the closest valid key and the expected type."""

import glob
import os

import pytest

from run.config import project_cfg_default
from run.config_merge import closest_keys, merge_config_file, merge_options
from run.user_errors import ConfigError
from tests.reliability.train_args import REPO_ROOT, toy_argv


def write(path, text):
    path.write_text(text)
    return str(path)


def test_unknown_key_in_a_yaml_file_names_the_key_the_file_and_the_closest_key(
    toy, tmp_path, run_train
):
    config = write(tmp_path / "mine.yaml", "OPTIM:\n  NAME: sgd\n  MAX_EPOCHS: 5\n")
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, flags=["--config-file", config]))
    assert result.status == 2
    assert (
        f'Unknown config key "OPTIM.MAX_EPOCHS" in config file "{config}". '
        'Did you mean "OPTIM.MAX_EPOCH"?'
    ) in result.err
    assert not os.path.exists(output_dir)  # refused before anything was built


def test_unknown_key_on_the_command_line_names_the_closest_key():
    cfg = project_cfg_default()
    with pytest.raises(
        ConfigError,
        match=r'"TRAINER.SEP.N_CTX" on the command line\. Did you mean '
        r'"TRAINER.SEP.N_CTX_TEXT"',
    ):
        merge_options(cfg, ["TRAINER.SEP.N_CTX", "4"])


def test_a_key_given_without_its_section_finds_the_key_of_the_same_name():
    assert closest_keys("MAX_EPOCH", project_cfg_default()) == ["OPTIM.MAX_EPOCH"]
    assert closest_keys("optim.lr", project_cfg_default()) == ["OPTIM.LR"]


def test_a_mistyped_section_suggests_the_section():
    assert closest_keys("OPTM", project_cfg_default()) == ["OPTIM"]
    assert closest_keys("TRAINER.COPO.N_CTX", project_cfg_default())[0] == "TRAINER.COOP.N_CTX"


def test_command_line_type_mismatch_says_expected_and_got(toy, tmp_path, run_train):
    result = run_train(toy_argv(toy, tmp_path / "run", "OPTIM.MAX_EPOCH", "ten"))
    assert result.status == 2
    assert '"OPTIM.MAX_EPOCH" on the command line: expected int, got str (\'ten\')' in result.err


def test_int_for_a_float_key_is_widened_and_a_float_for_an_int_key_refused():
    cfg = project_cfg_default()
    merge_options(cfg, ["OPTIM.LR", "1", "TRAINER.PROMPTSRC.GPA_MEAN", "7"])
    assert type(cfg.OPTIM.LR) is float and cfg.OPTIM.LR == 1.0
    assert type(cfg.TRAINER.PROMPTSRC.GPA_MEAN) is float and cfg.TRAINER.PROMPTSRC.GPA_MEAN == 7.0
    with pytest.raises(ConfigError, match=r"expected int, got float \(2\.0\).*never truncated"):
        merge_options(project_cfg_default(), ["OPTIM.MAX_EPOCH", "2.0"])


def test_yaml_type_mismatch_names_the_file(tmp_path):
    config = write(tmp_path / "bad_type.yaml", "DATALOADER:\n  TRAIN_X:\n    BATCH_SIZE: [1, 2]\n")
    with pytest.raises(
        ConfigError,
        match=r'"DATALOADER.TRAIN_X.BATCH_SIZE" in config file '
        r'".*bad_type.yaml": expected int, got list',
    ):
        merge_config_file(project_cfg_default(), config)


def test_a_section_given_a_value_and_a_value_given_a_section_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r'"OPTIM" in config file .* is a section, not a value'):
        merge_config_file(project_cfg_default(), write(tmp_path / "a.yaml", "OPTIM: 5\n"))
    with pytest.raises(ConfigError, match=r'"OPTIM.LR" in config file .* is a single value'):
        merge_config_file(
            project_cfg_default(), write(tmp_path / "b.yaml", "OPTIM:\n  LR:\n    X: 1\n")
        )
    with pytest.raises(ConfigError, match=r'"OPTIM" on the command line is a section'):
        merge_options(project_cfg_default(), ["OPTIM", "5"])


def test_invalid_yaml_names_the_file_and_line(tmp_path):
    config = write(tmp_path / "broken.yaml", "OPTIM:\n  LR: 0.1\n\tMAX_EPOCH: 3\n")
    with pytest.raises(ConfigError, match=r'"[^"]*broken.yaml" is not valid YAML at line 3'):
        merge_config_file(project_cfg_default(), config)


def test_missing_config_file_is_named(tmp_path, toy, run_train):
    missing = str(tmp_path / "nope.yaml")
    result = run_train(toy_argv(toy, tmp_path / "run", flags=["--config-file", missing]))
    assert result.status == 2
    assert f'Config file "{missing}" does not exist' in result.err


def test_odd_number_of_options_names_the_dangling_key():
    with pytest.raises(ConfigError, match=r'"OPTIM.LR" has no value'):
        merge_options(project_cfg_default(), ["OPTIM.MAX_EPOCH", "2", "OPTIM.LR"])


def test_valid_files_and_options_are_merged_as_yacs_would():
    cfg = project_cfg_default()
    for path in glob.glob(os.path.join(REPO_ROOT, "configs", "**", "*.yaml"), recursive=True):
        merge_config_file(cfg, path)  # every shipped config passes the checks
    merge_options(
        cfg,
        [
            "OPTIM.LR",
            "0.5",
            "INPUT.SIZE",
            "(32, 32)",
            "OPTIM.MAX_EPOCH",
            "7",
            "DATASET.SOURCE_DOMAINS",
            "['a', 'b']",
        ],
    )
    assert (cfg.OPTIM.LR, cfg.INPUT.SIZE, cfg.OPTIM.MAX_EPOCH) == (0.5, (32, 32), 7)
    assert cfg.DATASET.SOURCE_DOMAINS == ("a", "b")


def test_unknown_corrupt_image_policy_is_refused_before_anything_is_built(toy, tmp_path, run_train):
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, "DATALOADER.CORRUPT_IMAGE_POLICY", "ignore"))
    assert result.status == 2
    assert "DATALOADER.CORRUPT_IMAGE_POLICY \"ignore\" is not one of ('fail', 'skip')" in result.err
    assert not os.path.exists(output_dir)


def test_invalid_choices_checked_at_build_time_are_short_messages_too(toy, tmp_path, run_train):
    result = run_train(toy_argv(toy, tmp_path / "prec", "TRAINER.COOP.PREC", "fp8"))
    assert (result.status, result.err) == (
        2,
        "Error: PREC \"fp8\" is not one of ('fp16', 'fp32', 'amp')\n",
    )
    result = run_train(
        toy_argv(toy, tmp_path / "sub", "DATASET.SUBSAMPLE_CLASSES", "old", flags=["--no-train"])
    )
    assert result.status == 2
    assert (
        "DATASET.SUBSAMPLE_CLASSES must be one of ('all', 'base', 'new'), got 'old'" in result.err
    )
