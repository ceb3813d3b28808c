"""Per-epoch learning-rate schedulers, optionally preceded by a warm-up phase.

The warm-up schedulers keep the lr at a constant (or linearly rising) value for ``warmup_epoch``
epochs, then hand every further ``step()`` to the wrapped successor scheduler. Unlike upstream
Dassl they do not pass ``verbose`` to torch (rejected by torch >= 2.13), and their state_dict
nests the successor's state_dict instead of the successor object, so checkpoints stay plain
data that ``torch.load(weights_only=True)`` accepts.
"""

import torch
from torch.optim.lr_scheduler import LRScheduler

AVAI_SCHEDS = ["single_step", "multi_step", "cosine"]


class _BaseWarmupScheduler(LRScheduler):
    # ``verbose`` is accepted for call compatibility with upstream and ignored
    def __init__(self, optimizer, successor, warmup_epoch, last_epoch=-1, verbose=False):
        self.successor = successor
        self.warmup_epoch = warmup_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        raise NotImplementedError

    def step(self, epoch=None):
        if self.last_epoch >= self.warmup_epoch:
            self.successor.step(epoch)
            self._last_lr = self.successor.get_last_lr()
        else:
            super().step(epoch)

    def state_dict(self):
        state = {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("optimizer", "successor")
        }
        state["successor"] = self.successor.state_dict()
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        successor_state = state.pop("successor")
        if isinstance(successor_state, LRScheduler):  # a checkpoint written by upstream Dassl
            successor_state = successor_state.state_dict()
        self.__dict__.update(state)
        self.successor.load_state_dict(successor_state)


class ConstantWarmupScheduler(_BaseWarmupScheduler):
    """lr = ``cons_lr`` for the first ``warmup_epoch`` epochs."""

    def __init__(self, optimizer, successor, warmup_epoch, cons_lr, last_epoch=-1, verbose=False):
        self.cons_lr = cons_lr
        super().__init__(optimizer, successor, warmup_epoch, last_epoch)

    def get_lr(self):
        if self.last_epoch >= self.warmup_epoch:
            return self.successor.get_last_lr()
        return [self.cons_lr for _ in self.base_lrs]


class LinearWarmupScheduler(_BaseWarmupScheduler):
    """lr = ``min_lr`` at epoch 0, then base_lr * epoch / warmup_epoch until warm-up ends."""

    def __init__(self, optimizer, successor, warmup_epoch, min_lr, last_epoch=-1, verbose=False):
        self.min_lr = min_lr
        super().__init__(optimizer, successor, warmup_epoch, last_epoch)

    def get_lr(self):
        if self.last_epoch >= self.warmup_epoch:
            return self.successor.get_last_lr()
        if self.last_epoch == 0:
            return [self.min_lr for _ in self.base_lrs]
        return [base_lr * self.last_epoch / self.warmup_epoch for base_lr in self.base_lrs]


def _main_scheduler(optimizer, optim_cfg):
    name, stepsize = optim_cfg.LR_SCHEDULER, optim_cfg.STEPSIZE
    if name not in AVAI_SCHEDS:
        raise ValueError(f"OPTIM.LR_SCHEDULER must be one of {AVAI_SCHEDS}, but got {name}")
    if name == "single_step":
        if isinstance(stepsize, (list, tuple)):
            stepsize = stepsize[-1]
        if not isinstance(stepsize, int):
            raise TypeError(
                f"OPTIM.STEPSIZE must be an int for single_step, but got {type(stepsize)}"
            )
        if stepsize <= 0:
            stepsize = optim_cfg.MAX_EPOCH
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=stepsize, gamma=optim_cfg.GAMMA)
    if name == "multi_step":
        if not isinstance(stepsize, (list, tuple)):
            raise TypeError(
                f"OPTIM.STEPSIZE must be a list for multi_step, but got {type(stepsize)}"
            )
        return torch.optim.lr_scheduler.MultiStepLR(
            optimizer, milestones=list(stepsize), gamma=optim_cfg.GAMMA
        )
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, float(optim_cfg.MAX_EPOCH))


def build_lr_scheduler(optimizer, optim_cfg):
    """Scheduler from OPTIM.LR_SCHEDULER, wrapped in a warm-up when OPTIM.WARMUP_EPOCH > 0.

    Meant to be stepped once per epoch.
    """
    scheduler = _main_scheduler(optimizer, optim_cfg)
    if optim_cfg.WARMUP_EPOCH <= 0:
        return scheduler
    if not optim_cfg.WARMUP_RECOUNT:
        scheduler.last_epoch = optim_cfg.WARMUP_EPOCH
    if optim_cfg.WARMUP_TYPE == "constant":
        return ConstantWarmupScheduler(
            optimizer, scheduler, optim_cfg.WARMUP_EPOCH, optim_cfg.WARMUP_CONS_LR
        )
    if optim_cfg.WARMUP_TYPE == "linear":
        return LinearWarmupScheduler(
            optimizer, scheduler, optim_cfg.WARMUP_EPOCH, optim_cfg.WARMUP_MIN_LR
        )
    raise ValueError(
        f"OPTIM.WARMUP_TYPE must be 'constant' or 'linear', but got {optim_cfg.WARMUP_TYPE}"
    )
