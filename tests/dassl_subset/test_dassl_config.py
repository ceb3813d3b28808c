import pytest
import yaml
from dassl.config import get_cfg_default


def test_defaults_match_upstream_dassl_for_keys_coop_configs_set():
    cfg = get_cfg_default()
    assert cfg.SEED == -1 and cfg.USE_CUDA is True and cfg.OUTPUT_DIR == "./output"
    assert cfg.INPUT.SIZE == (224, 224) and cfg.INPUT.INTERPOLATION == "bilinear"
    assert cfg.INPUT.PIXEL_MEAN == [0.485, 0.456, 0.406] and cfg.INPUT.RRCROP_SCALE == (0.08, 1.0)
    assert cfg.DATASET.NUM_SHOTS == -1 and cfg.DATASET.SOURCE_DOMAINS == ()
    assert cfg.DATALOADER.NUM_WORKERS == 4 and cfg.DATALOADER.TRAIN_X.BATCH_SIZE == 32
    assert cfg.DATALOADER.TEST.SAMPLER == "SequentialSampler" and cfg.DATALOADER.TRAIN_X.N_INS == 16
    assert cfg.OPTIM.NAME == "adam" and cfg.OPTIM.LR == 0.0003 and cfg.OPTIM.WEIGHT_DECAY == 5e-4
    assert cfg.OPTIM.LR_SCHEDULER == "single_step" and cfg.OPTIM.STEPSIZE == (-1,)
    assert (
        cfg.OPTIM.WARMUP_EPOCH == -1
        and cfg.OPTIM.WARMUP_TYPE == "linear"
        and cfg.OPTIM.WARMUP_RECOUNT
    )
    assert (
        cfg.TRAIN.PRINT_FREQ == 10
        and cfg.TRAIN.CHECKPOINT_FREQ == 0
        and cfg.TRAIN.COUNT_ITER == "train_x"
    )
    assert cfg.TEST.EVALUATOR == "Classification" and cfg.TEST.FINAL_MODEL == "last_step"
    assert cfg.TEST.SPLIT == "test" and cfg.TEST.NO_TEST is False
    assert cfg.MODEL.BACKBONE.PRETRAINED is True and cfg.TRAINER.NAME == ""


def test_optim_eps_is_added_with_adam_default():
    assert get_cfg_default().OPTIM.EPS == 1e-8


def test_get_cfg_default_returns_an_independent_copy():
    first = get_cfg_default()
    first.OPTIM.LR = 1.0
    assert get_cfg_default().OPTIM.LR == 0.0003


def test_da_dg_ssl_trainer_nodes_are_left_out():
    assert list(get_cfg_default().TRAINER.keys()) == ["NAME"]


def test_merging_a_config_file_with_an_unknown_key_fails(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(
        yaml.safe_dump({"OPTIM": {"NAME": "sgd", "EPS": 1e-3}, "INPUT": {"SIZE": [32, 32]}})
    )
    cfg = get_cfg_default()
    cfg.merge_from_file(str(good))
    assert cfg.OPTIM.NAME == "sgd" and cfg.OPTIM.EPS == 1e-3 and cfg.INPUT.SIZE == (32, 32)

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"OPTIM": {"LEARNING_RATE": 0.1}}))
    with pytest.raises(KeyError, match="OPTIM.LEARNING_RATE"):
        get_cfg_default().merge_from_file(str(bad))
