import os

import pytest
import torch
from dassl.data import DataManager, DatasetWrapper
from dassl.data.data_manager import build_data_loader
from subset_helpers import write_toy_images


@pytest.fixture
def toy_cfg(cpu_cfg, tmp_path):
    write_toy_images(tmp_path / "toy")
    cpu_cfg.DATASET.NAME = "DasslSubsetToyDataset"
    cpu_cfg.DATASET.ROOT = str(tmp_path / "toy")
    cpu_cfg.INPUT.SIZE = (8, 8)
    cpu_cfg.INPUT.TRANSFORMS = ("random_flip", "normalize")
    cpu_cfg.DATALOADER.TRAIN_X.BATCH_SIZE = 5
    cpu_cfg.DATALOADER.TEST.BATCH_SIZE = 4
    return cpu_cfg


def test_data_manager_builds_loaders_and_prints_a_summary(toy_cfg, capsys):
    toy_cfg.VERBOSE = True
    dm = DataManager(toy_cfg)
    out = capsys.readouterr().out
    assert "# classes" in out and "# train_x  12" in out and "# test     6" in out
    assert dm.num_classes == 3 and dm.num_source_domains == 0
    assert dm.lab2cname == {0: "red", 1: "green", 2: "blue"}
    assert dm.train_loader_u is None and dm.val_loader is None
    assert len(dm.train_loader_x) == 2  # 12 items, batch 5, last partial batch dropped
    assert len(dm.test_loader) == 2  # test never drops
    batch = next(iter(dm.train_loader_x))
    assert batch["img"].shape == (5, 3, 8, 8)
    assert set(batch) == {"img", "label", "domain", "impath", "index"}


def test_train_set_smaller_than_a_batch_keeps_its_only_batch(toy_cfg):
    dataset = DataManager(toy_cfg).dataset
    loader = build_data_loader(
        toy_cfg, "RandomSampler", dataset.train_x, batch_size=64, is_train=True
    )
    assert len(loader) == 1 and loader.drop_last is False


def test_unknown_sampler_is_rejected_by_name(toy_cfg):
    toy_cfg.DATALOADER.TRAIN_X.SAMPLER = "RandomDomainSampler"
    with pytest.raises(ValueError, match="RandomDomainSampler"):
        DataManager(toy_cfg)


def test_wrapper_returns_k_views_and_img0(toy_cfg):
    toy_cfg.DATALOADER.K_TRANSFORMS = 2
    toy_cfg.DATALOADER.RETURN_IMG0 = True
    dataset = DataManager(toy_cfg).dataset
    tfm = lambda image: torch.zeros(1)  # noqa: E731
    train_item = DatasetWrapper(toy_cfg, dataset.train_x, transform=[tfm, tfm], is_train=True)[3]
    assert len(train_item["img"]) == 2 and len(train_item["img2"]) == 2
    assert train_item["img0"].shape == (3, 8, 8) and train_item["index"] == 3
    test_item = DatasetWrapper(toy_cfg, dataset.test, transform=tfm, is_train=False)[0]
    assert test_item["img"].shape == (1,)


def test_image_missing_at_read_time_names_its_path(toy_cfg):
    dataset = DataManager(toy_cfg).dataset
    os.remove(dataset.test[0].impath)
    with pytest.raises(FileNotFoundError, match=r"test/red/0\.png"):
        DatasetWrapper(toy_cfg, dataset.test)[0]
