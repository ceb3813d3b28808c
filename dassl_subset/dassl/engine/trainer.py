"""Epoch/batch training loop with checkpointing, resuming, tensorboard scalars and testing.

``TrainerBase`` owns the registered (model, optimizer, scheduler) triples; ``SimpleTrainer``
adds config-driven data, evaluation and hooks; ``TrainerX`` iterates labelled data only.
Subclasses implement ``build_model`` and ``forward_backward`` (and step the schedulers, as
CoOp-family trainers do, via ``update_lr`` on the last batch of each epoch).
"""

import datetime
import os
import time
from collections import OrderedDict

import numpy as np
import torch
from dassl.data import DataManager
from dassl.evaluation import build_evaluator
from dassl.utils import (
    AverageMeter,
    MetricMeter,
    load_checkpoint,
    mkdir_if_missing,
    resume_from_checkpoint,
    save_checkpoint,
    tolist_if_not,
)
from tqdm import tqdm


class TrainerBase:
    """Registry of models with their optimizers and schedulers, and the generic epoch loop."""

    def __init__(self):
        self._models = OrderedDict()
        self._optims = OrderedDict()
        self._scheds = OrderedDict()
        self._writer = None

    def register_model(self, name="model", model=None, optim=None, sched=None):
        if self.__dict__.get("_models") is None:
            raise AttributeError("Cannot register a model before super().__init__() is called")
        if name in self._models:
            raise KeyError(f'A model named "{name}" is already registered')
        self._models[name] = model
        self._optims[name] = optim
        self._scheds[name] = sched

    def get_model_names(self, names=None):
        registered = list(self._models.keys())
        if names is None:
            return registered
        names = tolist_if_not(names)
        for name in names:
            if name not in registered:
                raise KeyError(f'No model named "{name}"; registered: {registered}')
        return names

    def save_model(self, epoch, directory, is_best=False, val_result=None, model_name=""):
        """One checkpoint per model under ``directory/<name>/``; its "epoch" is ``epoch + 1``."""
        for name in self.get_model_names():
            optim, sched = self._optims[name], self._scheds[name]
            state = {
                "state_dict": self._models[name].state_dict(),
                "epoch": epoch + 1,
                "optimizer": None if optim is None else optim.state_dict(),
                "scheduler": None if sched is None else sched.state_dict(),
                "val_result": val_result,
            }
            save_checkpoint(
                state, os.path.join(directory, name), is_best=is_best, model_name=model_name
            )

    def resume_model_if_exist(self, directory):
        """Resume every model from ``directory/<name>/``; return the epoch to start at (0: none)."""
        names = self.get_model_names()
        if not all(os.path.exists(os.path.join(directory, name)) for name in names):
            print("No checkpoint found, train from scratch")
            return 0
        print(f"Found checkpoint at {directory} (will resume training)")
        start_epoch = 0
        for name in names:
            start_epoch = resume_from_checkpoint(
                os.path.join(directory, name),
                self._models[name],
                self._optims[name],
                self._scheds[name],
            )
        return start_epoch

    def load_model(self, directory, epoch=None):
        """Load ``model-best.pth.tar`` (or ``model.pth.tar-{epoch}``) weights of every model."""
        if not directory:
            print(
                "Note that load_model() is skipped as no pretrained model is given "
                "(ignore this if it's done on purpose)"
            )
            return
        model_file = "model-best.pth.tar" if epoch is None else f"model.pth.tar-{epoch}"
        for name in self.get_model_names():
            model_path = os.path.join(directory, name, model_file)
            if not os.path.exists(model_path):
                raise FileNotFoundError(f"No model at {model_path}")
            checkpoint = load_checkpoint(model_path)
            val_result = checkpoint.get("val_result")
            val_text = "None" if val_result is None else f"{val_result:.1f}"
            print(
                f"Load {model_path} to {name} (epoch={checkpoint['epoch']}, val_result={val_text})"
            )
            self._models[name].load_state_dict(checkpoint["state_dict"])

    def set_model_mode(self, mode="train", names=None):
        if mode not in ("train", "test", "eval"):
            raise KeyError(f"mode must be 'train', 'test' or 'eval', got {mode!r}")
        for name in self.get_model_names(names):
            self._models[name].train(mode == "train")

    def update_lr(self, names=None):
        for name in self.get_model_names(names):
            if self._scheds[name] is not None:
                self._scheds[name].step()

    def detect_anomaly(self, loss):
        if not torch.isfinite(loss).all():
            raise FloatingPointError("Loss is infinite or NaN!")

    def init_writer(self, log_dir):
        if self.__dict__.get("_writer") is None:
            from torch.utils.tensorboard import SummaryWriter  # slow import, only when training

            print(f"Initialize tensorboard (log_dir={log_dir})")
            self._writer = SummaryWriter(log_dir=log_dir)

    def close_writer(self):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def write_scalar(self, tag, scalar_value, global_step=None):
        # no-op until init_writer(): evaluation-only runs write nothing
        if self._writer is not None:
            self._writer.add_scalar(tag, scalar_value, global_step)

    def train(self, start_epoch, max_epoch):
        self.start_epoch = start_epoch
        self.max_epoch = max_epoch
        self.before_train()
        for self.epoch in range(self.start_epoch, self.max_epoch):
            self.before_epoch()
            self.run_epoch()
            self.after_epoch()
        self.after_train()

    def before_train(self):
        pass

    def after_train(self):
        pass

    def before_epoch(self):
        pass

    def after_epoch(self):
        pass

    def run_epoch(self):
        raise NotImplementedError

    def test(self):
        raise NotImplementedError

    def parse_batch_train(self, batch):
        raise NotImplementedError

    def parse_batch_test(self, batch):
        raise NotImplementedError

    def forward_backward(self, batch):
        raise NotImplementedError(f"{type(self).__name__} must implement forward_backward(batch)")

    def model_inference(self, input):
        raise NotImplementedError

    def model_zero_grad(self, names=None):
        for name in self.get_model_names(names):
            if self._optims[name] is not None:
                self._optims[name].zero_grad()

    def model_backward(self, loss):
        self.detect_anomaly(loss)
        loss.backward()

    def model_update(self, names=None):
        for name in self.get_model_names(names):
            if self._optims[name] is not None:
                self._optims[name].step()

    def model_backward_and_update(self, loss, names=None):
        self.model_zero_grad(names)
        self.model_backward(loss)
        self.model_update(names)


class SimpleTrainer(TrainerBase):
    """Config-driven trainer: data loaders, evaluator, resume, checkpoints and final test."""

    def __init__(self, cfg):
        super().__init__()
        self.check_cfg(cfg)
        use_cuda = torch.cuda.is_available() and cfg.USE_CUDA
        self.device = torch.device("cuda" if use_cuda else "cpu")
        self.start_epoch = self.epoch = 0
        self.max_epoch = cfg.OPTIM.MAX_EPOCH
        self.output_dir = cfg.OUTPUT_DIR
        self.cfg = cfg
        self.build_data_loader()
        self.build_model()
        self.evaluator = build_evaluator(cfg, lab2cname=self.lab2cname)
        self.best_result = -np.inf

    def check_cfg(self, cfg):
        """Hook for subclasses to validate the config before anything is built."""

    def build_data_loader(self):
        dm = DataManager(self.cfg)
        self.train_loader_x = dm.train_loader_x
        self.train_loader_u = dm.train_loader_u  # None without unlabelled data
        self.val_loader = dm.val_loader  # None without validation data
        self.test_loader = dm.test_loader
        self.num_classes = dm.num_classes
        self.num_source_domains = dm.num_source_domains
        self.lab2cname = dm.lab2cname
        self.dm = dm

    def build_model(self):
        raise NotImplementedError(
            f"{type(self).__name__} must implement build_model() and register its model with "
            "self.register_model(name, model, optim, sched) "
            "(the built-in Dassl subset has no SimpleNet)"
        )

    def train(self):
        super().train(self.start_epoch, self.max_epoch)

    def before_train(self):
        directory = self.cfg.RESUME or self.cfg.OUTPUT_DIR
        self.start_epoch = self.resume_model_if_exist(directory)
        writer_dir = os.path.join(self.output_dir, "tensorboard")
        mkdir_if_missing(writer_dir)
        self.init_writer(writer_dir)
        self.time_start = time.time()

    def after_train(self):
        # forks' log parsers wait for one or the other of these two lines
        print("Finish training")
        print("Finished training")
        if not self.cfg.TEST.NO_TEST:
            if self.cfg.TEST.FINAL_MODEL == "best_val":
                print("Deploy the model with the best val performance")
                self.load_model(self.output_dir)
            else:
                print("Deploy the last-epoch model")
            self.test()
        elapsed = datetime.timedelta(seconds=round(time.time() - self.time_start))
        print(f"Elapsed: {elapsed}")
        self.close_writer()

    def after_epoch(self):
        is_last_epoch = self.epoch + 1 == self.max_epoch
        freq = self.cfg.TRAIN.CHECKPOINT_FREQ
        meets_checkpoint_freq = freq > 0 and (self.epoch + 1) % freq == 0

        if not self.cfg.TEST.NO_TEST and self.cfg.TEST.FINAL_MODEL == "best_val":
            current_result = self.test(split="val")
            if current_result > self.best_result:
                self.best_result = current_result
                self.save_model(
                    self.epoch,
                    self.output_dir,
                    val_result=current_result,
                    model_name="model-best.pth.tar",
                )

        if meets_checkpoint_freq or is_last_epoch:
            self.save_model(self.epoch, self.output_dir)

    @torch.no_grad()
    def test(self, split=None):
        """Evaluate on ``split`` (default TEST.SPLIT; "val" falls back to test without val data).

        Returns the evaluator's first metric (accuracy for Classification).
        """
        self.set_model_mode("eval")
        self.evaluator.reset()
        split = self.cfg.TEST.SPLIT if split is None else split
        if split == "val" and self.val_loader is not None:
            data_loader = self.val_loader
        else:
            split, data_loader = "test", self.test_loader
        print(f"Evaluate on the *{split}* set")

        for batch in tqdm(data_loader):
            input, label = self.parse_batch_test(batch)
            self.evaluator.process(self.model_inference(input), label)

        results = self.evaluator.evaluate()
        for name, value in results.items():
            self.write_scalar(f"{split}/{name}", value, self.epoch)
        return list(results.values())[0]

    def model_inference(self, input):
        return self.model(input)

    def parse_batch_test(self, batch):
        return batch["img"].to(self.device), batch["label"].to(self.device)

    def get_current_lr(self, names=None):
        first_name = self.get_model_names(names)[0]
        return self._optims[first_name].param_groups[0]["lr"]

    def get_specific_lr(self, names=None):
        """lr of the first param group of the model ``names`` (a single name; default: first)."""
        name = self.get_model_names()[0] if names is None else self.get_model_names(names)[0]
        return self._optims[name].param_groups[0]["lr"]


class TrainerX(SimpleTrainer):
    """Trains on labelled data (train_loader_x) only."""

    def run_epoch(self):
        self.set_model_mode("train")
        losses = MetricMeter()
        batch_time = AverageMeter()
        data_time = AverageMeter()
        self.num_batches = len(self.train_loader_x)
        print_freq = self.cfg.TRAIN.PRINT_FREQ

        end = time.time()
        for self.batch_idx, batch in enumerate(self.train_loader_x):
            data_time.update(time.time() - end)
            loss_summary = self.forward_backward(batch)
            batch_time.update(time.time() - end)
            losses.update(loss_summary)

            if (self.batch_idx + 1) % print_freq == 0 or self.num_batches < print_freq:
                print(self._progress_line(batch_time, data_time, losses))

            n_iter = self.epoch * self.num_batches + self.batch_idx
            for name, meter in losses.meters.items():
                self.write_scalar("train/" + name, meter.avg, n_iter)
            self.write_scalar("train/lr", self.get_current_lr(), n_iter)
            end = time.time()

    def _progress_line(self, batch_time, data_time, losses):
        batches_left = (
            self.num_batches
            - self.batch_idx
            - 1
            + (self.max_epoch - self.epoch - 1) * self.num_batches
        )
        eta = datetime.timedelta(seconds=int(batch_time.avg * batches_left))
        return " ".join(
            [
                f"epoch [{self.epoch + 1}/{self.max_epoch}]",
                f"batch [{self.batch_idx + 1}/{self.num_batches}]",
                f"time {batch_time.val:.3f} ({batch_time.avg:.3f})",
                f"data {data_time.val:.3f} ({data_time.avg:.3f})",
                f"{losses}",
                f"lr {self.get_current_lr():.4e}",
                f"eta {eta}",
            ]
        )

    def parse_batch_train(self, batch):
        return (
            batch["img"].to(self.device),
            batch["label"].to(self.device),
            batch["domain"].to(self.device),
        )
