import math

import pytest
import torch
import torch.nn as nn
from dassl.config import get_cfg_default
from dassl.optim import build_lr_scheduler, build_optimizer
from dassl.optim.lr_scheduler import ConstantWarmupScheduler, LinearWarmupScheduler

from tests.tolerances import fp64_chain_rtol, relative_approx


def _build(**overrides):
    cfg = get_cfg_default().OPTIM
    cfg.NAME = "sgd"
    for key, value in overrides.items():
        setattr(cfg, key, value)
    optimizer = build_optimizer(nn.Linear(2, 2), cfg)
    return optimizer, build_lr_scheduler(optimizer, cfg)


def _lrs_per_epoch(optimizer, scheduler, epochs):
    """lr in use during each epoch, stepping the scheduler after each one as trainers do."""
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def _cosine_rtol(max_epoch, steps):
    """torch's cosine schedule steps recursively, lr_e = f(e) / f(e - 1) * lr_(e-1) with
    f(e) = 1 + cos(pi e / T). Each f rounds its argument twice and cos within 1 ulp (2
    roundings), both amplified by the condition of 1 + cos at x = pi e / T,
    kappa = max(x sin x, 1) / (1 + cos x) (largest at the last step), and rounds the sum once;
    the ratio and the product add 2 per step. The closed form is one f and 3 roundings more."""
    x = math.pi * steps / max_epoch
    kappa = max(x * math.sin(x), 1) / (1 + math.cos(x))
    one_f = 4 * kappa + 1
    return fp64_chain_rtol(steps * (2 * one_f + 2) + one_f + 3)


COOP_WARMUP = dict(
    LR=0.0025,
    MAX_EPOCH=5,
    LR_SCHEDULER="cosine",
    WARMUP_EPOCH=1,
    WARMUP_TYPE="constant",
    WARMUP_CONS_LR=1e-5,
)


def test_cosine_with_constant_warmup_follows_the_closed_form():
    optimizer, scheduler = _build(**COOP_WARMUP)
    assert isinstance(scheduler, ConstantWarmupScheduler)

    def cosine(epoch):  # the successor restarts its count when warm-up ends (WARMUP_RECOUNT)
        return 0.0025 * (1 + math.cos(math.pi * epoch / 5)) / 2

    expected = [1e-5, cosine(0), cosine(1), cosine(2), cosine(3)]
    rtol = _cosine_rtol(max_epoch=5, steps=3)
    assert _lrs_per_epoch(optimizer, scheduler, 5) == relative_approx(expected, rtol)


# A warm-up or step lr is at most 2 float64 roundings from exact (base * epoch / warmup, or two
# decays by gamma), as is each literal it is compared with (one rounding).
STEP_RTOL = fp64_chain_rtol(2)


def test_linear_warmup_rises_from_min_lr_then_hands_over_to_single_step():
    optimizer, scheduler = _build(
        LR=1.0,
        MAX_EPOCH=6,
        LR_SCHEDULER="single_step",
        STEPSIZE=(2,),
        GAMMA=0.5,
        WARMUP_EPOCH=3,
        WARMUP_TYPE="linear",
        WARMUP_MIN_LR=0.01,
    )
    assert isinstance(scheduler, LinearWarmupScheduler)
    expected = [0.01, 1 / 3, 2 / 3, 1.0, 1.0, 0.5]
    assert _lrs_per_epoch(optimizer, scheduler, 6) == relative_approx(expected, STEP_RTOL)


def test_single_step_without_stepsize_decays_at_max_epoch():
    optimizer, scheduler = _build(
        LR=1.0, MAX_EPOCH=3, LR_SCHEDULER="single_step", STEPSIZE=(-1,), GAMMA=0.1
    )
    assert _lrs_per_epoch(optimizer, scheduler, 4) == relative_approx(
        [1.0, 1.0, 1.0, 0.1], STEP_RTOL
    )


def test_multi_step_decays_at_each_milestone():
    optimizer, scheduler = _build(LR=1.0, LR_SCHEDULER="multi_step", STEPSIZE=(1, 3), GAMMA=0.1)
    assert _lrs_per_epoch(optimizer, scheduler, 4) == relative_approx(
        [1.0, 0.1, 0.1, 0.01], STEP_RTOL
    )


def test_warmup_state_round_trips_mid_schedule_through_weights_only_load(tmp_path):
    optimizer, scheduler = _build(**COOP_WARMUP)
    _lrs_per_epoch(optimizer, scheduler, 2)
    path = tmp_path / "sched.pt"
    torch.save({"scheduler": scheduler.state_dict(), "optimizer": optimizer.state_dict()}, path)
    remaining = _lrs_per_epoch(optimizer, scheduler, 3)

    state = torch.load(path, weights_only=True)  # plain data: no pickled scheduler inside
    assert isinstance(state["scheduler"]["successor"], dict)
    fresh_optimizer, fresh_scheduler = _build(**COOP_WARMUP)
    fresh_optimizer.load_state_dict(state["optimizer"])
    fresh_scheduler.load_state_dict(state["scheduler"])
    assert _lrs_per_epoch(fresh_optimizer, fresh_scheduler, 3) == remaining


def test_unknown_scheduler_and_warmup_type_are_rejected():
    with pytest.raises(ValueError, match="cosine"):
        _build(LR_SCHEDULER="poly")
    with pytest.raises(ValueError, match="WARMUP_TYPE"):
        _build(WARMUP_EPOCH=1, WARMUP_TYPE="exp")
