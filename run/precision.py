"""The family's precision modes: fp16 (CLIP in half, as CoOp does), fp32, and amp."""

import contextlib

import torch

from .user_errors import ConfigError

PRECISIONS = ("fp16", "fp32", "amp")


def check_precision(requested):
    if requested not in PRECISIONS:
        raise ConfigError(f'PREC "{requested}" is not one of {PRECISIONS}')


def resolve_precision(requested, device):
    """The precision to run; fp16 weights are a GPU mode, so on a CPU fp16 runs as fp32."""
    check_precision(requested)
    if requested == "fp16" and device.type == "cpu":
        print("Note: PREC fp16 needs a GPU; running CLIP in fp32 on the CPU")
        return "fp32"
    return requested


def autocast_dtype(device):
    return torch.float16 if device.type == "cuda" else torch.bfloat16


def autocast(precision, device):
    """Mixed-precision context for "amp" (fp16 on CUDA, bf16 elsewhere); a no-op otherwise.

    Trained parameters stay fp32 (master weights); autocast casts them per operation.
    """
    if precision != "amp":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=autocast_dtype(device))


def grad_scaler(precision, device):
    """A gradient scaler for fp16 autocast on CUDA; bf16 needs none."""
    if precision == "amp" and device.type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None


def backward_and_step(loss, optimizer, scaler=None, before_step=None):
    """zero_grad, backward and step; through the gradient scaler when there is one.

    ``before_step()``, if given, runs between backward and step (summing distributed gradients).
    """
    optimizer.zero_grad()
    (loss if scaler is None else scaler.scale(loss)).backward()
    if before_step is not None:
        before_step()
    if scaler is None:
        optimizer.step()
        return
    scaler.step(optimizer)
    scaler.update()
