import argparse
import os
import random

import numpy as np
import pytest
import torch
import torch.nn as nn
from dassl.utils import (
    count_num_param,
    load_checkpoint,
    load_pretrained_weights,
    resume_from_checkpoint,
    save_checkpoint,
    torchtools,
)

from run.untrusted_files import UnsafeFileError


def _state(model, epoch, **extra):
    return {"state_dict": model.state_dict(), "epoch": epoch, **extra}


def _draw_all_generators():
    return random.random(), float(np.random.rand()), torch.rand(2).tolist()


def test_save_writes_epoch_file_and_points_checkpoint_file_at_the_latest(tmp_path):
    model = nn.Linear(2, 2)
    save_checkpoint(_state(model, 1), str(tmp_path))
    save_checkpoint(_state(model, 2), str(tmp_path), is_best=True)
    assert (tmp_path / "checkpoint").read_text().splitlines()[0] == "model.pth.tar-2"
    assert {"model.pth.tar-1", "model.pth.tar-2", "model-best.pth.tar"} <= set(os.listdir(tmp_path))
    assert load_checkpoint(str(tmp_path / "model-best.pth.tar"))["epoch"] == 2


def test_model_name_overrides_the_file_name_and_module_prefix_is_stripped(tmp_path):
    wrapped = nn.Sequential(nn.Linear(2, 2))
    state = {"state_dict": {"module." + k: v for k, v in wrapped.state_dict().items()}, "epoch": 3}
    save_checkpoint(state, str(tmp_path), model_name="model-best.pth.tar")
    loaded = load_checkpoint(str(tmp_path / "model-best.pth.tar"))
    assert list(loaded["state_dict"]) == ["0.weight", "0.bias"]
    assert (tmp_path / "checkpoint").read_text() == "model-best.pth.tar\n"


def test_checkpoints_are_plain_data_for_weights_only_loading(tmp_path):
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    save_checkpoint(_state(model, 1, optimizer=optimizer.state_dict()), str(tmp_path))
    checkpoint = torch.load(tmp_path / "model.pth.tar-1", weights_only=True)
    assert set(checkpoint) == {"state_dict", "epoch", "optimizer", "rng_state"}


def test_failed_save_leaves_previous_checkpoint_and_no_partial_file(tmp_path, monkeypatch):
    model = nn.Linear(2, 2)
    save_checkpoint(_state(model, 1), str(tmp_path), model_name="model.pth.tar")
    before = (tmp_path / "model.pth.tar").read_bytes()

    def crash_midway(obj, f):
        f.write(b"partial bytes")
        raise OSError("disk full")

    monkeypatch.setattr(torchtools.torch, "save", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(_state(model, 2), str(tmp_path), model_name="model.pth.tar")
    assert (tmp_path / "model.pth.tar").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model.pth.tar"]


def test_load_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.pth.tar-9"):
        load_checkpoint(str(tmp_path / "model.pth.tar-9"))


def test_checkpoint_with_other_pickled_objects_is_refused_naming_the_type(tmp_path):
    path = tmp_path / "upstream.pth.tar"
    torch.save({"epoch": 1, "scheduler": argparse.Namespace(last_epoch=4)}, path)
    with pytest.raises(UnsafeFileError, match=r"upstream\.pth\.tar.*argparse\.Namespace"):
        load_checkpoint(str(path))


def test_resume_restores_weights_optimizer_scheduler_epoch_and_rng_state(tmp_path):
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    scheduler.step()
    save_checkpoint(
        _state(model, 7, optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict()),
        str(tmp_path),
    )
    expected_draws = _draw_all_generators()

    fresh_model = nn.Linear(3, 2)
    fresh_optimizer = torch.optim.SGD(fresh_model.parameters(), lr=0.1, momentum=0.9)
    fresh_scheduler = torch.optim.lr_scheduler.StepLR(fresh_optimizer, step_size=1, gamma=0.5)
    start_epoch = resume_from_checkpoint(
        str(tmp_path), fresh_model, fresh_optimizer, fresh_scheduler
    )

    assert start_epoch == 7
    assert _draw_all_generators() == expected_draws
    assert torch.equal(fresh_model.weight, model.weight)
    assert fresh_scheduler.last_epoch == 1 and fresh_optimizer.param_groups[0]["lr"] == 0.05
    momentum = fresh_optimizer.state_dict()["state"][0]["momentum_buffer"]
    assert torch.equal(momentum, optimizer.state_dict()["state"][0]["momentum_buffer"])


def test_load_pretrained_weights_copies_only_matching_tensors(tmp_path):
    source = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 4))
    save_checkpoint(_state(source, 1), str(tmp_path))
    target = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 5))
    untouched = target[1].weight.clone()
    load_pretrained_weights(target, str(tmp_path / "model.pth.tar-1"))
    assert torch.equal(target[0].weight, source[0].weight)
    assert torch.equal(target[1].weight, untouched)


def test_count_num_param_from_model_or_params():
    model = nn.Linear(3, 2)
    assert count_num_param(model) == 8
    assert count_num_param(params=[model.weight, {"params": model.bias}]) == 8
