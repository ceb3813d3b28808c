"""End to end: a linear probe trained by TrainerX on toy PNGs, checkpointed, resumed and tested."""

import os

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from dassl.engine import TRAINER_REGISTRY, TrainerX, build_trainer
from dassl.metrics import compute_accuracy
from dassl.optim import build_lr_scheduler, build_optimizer
from dassl.utils import set_random_seed
from subset_helpers import write_toy_images


@TRAINER_REGISTRY.register(force=True)
class DasslSubsetLinearProbe(TrainerX):
    def build_model(self):
        # [batch, 3, 8, 8] -> [batch, num_classes]
        self.model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, self.num_classes)).to(
            self.device
        )
        self.optim = build_optimizer(self.model, self.cfg.OPTIM)
        self.sched = build_lr_scheduler(self.optim, self.cfg.OPTIM)
        self.register_model("probe", self.model, self.optim, self.sched)

    def forward_backward(self, batch):
        image, label, _ = self.parse_batch_train(batch)
        output = self.model(image)
        loss = F.cross_entropy(output, label)
        self.model_backward_and_update(loss)
        if self.batch_idx + 1 == self.num_batches:
            self.update_lr()
        return {"loss": loss.item(), "acc": compute_accuracy(output, label)[0].item()}


@TRAINER_REGISTRY.register(force=True)
class DasslSubsetNoModel(TrainerX):
    pass


@pytest.fixture
def toy_cfg(cpu_cfg, tmp_path):
    write_toy_images(tmp_path / "toy", splits=(("train", 4), ("val", 1), ("test", 2)))
    cfg = cpu_cfg
    cfg.DATASET.NAME = "DasslSubsetToyDataset"
    cfg.DATASET.ROOT = str(tmp_path / "toy")
    cfg.TRAINER.NAME = "DasslSubsetLinearProbe"
    cfg.INPUT.SIZE = (8, 8)
    cfg.INPUT.TRANSFORMS = ("random_flip", "normalize")
    cfg.DATALOADER.TRAIN_X.BATCH_SIZE = 4
    cfg.OPTIM.NAME = "sgd"
    cfg.OPTIM.LR = 0.002  # small enough that the loss stays far from 0 (batch order matters)
    cfg.OPTIM.MAX_EPOCH = 3
    cfg.OPTIM.LR_SCHEDULER = "cosine"
    cfg.OPTIM.WARMUP_EPOCH = 1
    cfg.OPTIM.WARMUP_TYPE = "constant"
    cfg.OPTIM.WARMUP_CONS_LR = 0.001
    cfg.TRAIN.PRINT_FREQ = 2
    return cfg


def _train(cfg, output_dir, stop_after=None):
    cfg = cfg.clone()
    cfg.OUTPUT_DIR = str(output_dir)
    set_random_seed(1)
    trainer = build_trainer(cfg)
    if stop_after is not None:  # an interrupted run: same schedule, fewer epochs
        trainer.max_epoch = stop_after
    trainer.train()
    return trainer


def test_trains_checkpoints_and_tests_with_dassls_printed_lines(toy_cfg, tmp_path, capsys):
    toy_cfg.VERBOSE = True
    trainer = _train(toy_cfg, tmp_path / "run")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "Loading trainer: DasslSubsetLinearProbe" in lines
    assert "No checkpoint found, train from scratch" in lines
    progress = [line for line in lines if line.startswith("epoch [")]
    # 12 images / batch 4 = 3 batches per epoch, printed every PRINT_FREQ = 2 batches
    assert [line.split(" time ")[0] for line in progress] == [
        f"epoch [{e}/3] batch [2/3]" for e in (1, 2, 3)
    ]
    assert (
        " loss " in progress[0] and " acc " in progress[0] and " lr 1.0000e-03 eta " in progress[0]
    )
    assert lines.index("Finish training") + 1 == lines.index("Finished training")
    assert "Deploy the last-epoch model" in lines and "Evaluate on the *test* set" in lines
    assert "* total: 6" in lines and "* accuracy: 100.0%" in lines
    assert any(line.startswith("Elapsed: 0:00:") for line in lines)

    model_dir = tmp_path / "run" / "probe"
    assert (model_dir / "checkpoint").read_text() == "model.pth.tar-3\n"
    assert sorted(os.listdir(model_dir)) == ["checkpoint", "model.pth.tar-3"]
    assert os.listdir(tmp_path / "run" / "tensorboard")
    assert trainer.get_current_lr() == trainer.get_specific_lr("probe") < 0.002


def test_resumed_run_ends_identical_to_an_uninterrupted_one(toy_cfg, tmp_path, capsys):
    straight = _train(toy_cfg, tmp_path / "straight")
    _train(toy_cfg, tmp_path / "resumed", stop_after=2)
    capsys.readouterr()
    resumed = _train(toy_cfg, tmp_path / "resumed")
    out = capsys.readouterr().out
    assert "Previous epoch: 2" in out and "epoch [1/3]" not in out and "epoch [3/3]" in out
    for name, tensor in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], tensor), name
    assert resumed.get_current_lr() == straight.get_current_lr()


def test_best_val_model_is_saved_and_deployed(toy_cfg, tmp_path, capsys):
    toy_cfg.TEST.FINAL_MODEL = "best_val"
    toy_cfg.OPTIM.MAX_EPOCH = 2
    trainer = _train(toy_cfg, tmp_path / "run")
    out = capsys.readouterr().out
    assert out.count("Evaluate on the *val* set") == 2
    assert "Deploy the model with the best val performance" in out
    assert "model-best.pth.tar" in os.listdir(tmp_path / "run" / "probe")
    assert trainer.best_result > 0


def test_load_model_by_epoch_and_no_test(toy_cfg, tmp_path, capsys):
    toy_cfg.TEST.NO_TEST = True
    toy_cfg.OPTIM.MAX_EPOCH = 1
    trained = _train(toy_cfg, tmp_path / "run")
    assert "Evaluate on" not in capsys.readouterr().out
    set_random_seed(5)
    fresh = build_trainer(toy_cfg)
    fresh.load_model(str(tmp_path / "run"), epoch=1)
    assert torch.equal(fresh.model[1].weight, trained.model[1].weight)
    with pytest.raises(FileNotFoundError, match="model-best.pth.tar"):
        fresh.load_model(str(tmp_path / "run"))


def test_trainer_without_build_model_says_what_to_implement(toy_cfg):
    toy_cfg.TRAINER.NAME = "DasslSubsetNoModel"
    with pytest.raises(NotImplementedError, match="build_model"):
        build_trainer(toy_cfg)


def test_unknown_trainer_lists_available_and_closest(toy_cfg):
    toy_cfg.TRAINER.NAME = "DasslSubsetLinearProb"
    with pytest.raises(ValueError, match=r"do you mean \[DasslSubsetLinearProbe\]"):
        build_trainer(toy_cfg)
