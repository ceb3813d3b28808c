"""Build a torch optimizer from the OPTIM config node."""

import warnings

import torch
import torch.nn as nn

AVAI_OPTIMS = ["adam", "amsgrad", "sgd", "rmsprop", "radam", "adamw"]


def _staged_param_groups(model, optim_cfg):
    """NEW_LAYERS (children of ``model``) at LR, every other child at LR * BASE_LR_MULT."""
    if not isinstance(model, nn.Module):
        raise TypeError("When OPTIM.STAGED_LR is True, build_optimizer() needs an nn.Module")
    if isinstance(model, nn.DataParallel):
        model = model.module
    new_layers = optim_cfg.NEW_LAYERS
    if isinstance(new_layers, str):
        new_layers = [new_layers]
    if not new_layers:
        warnings.warn("OPTIM.NEW_LAYERS is empty (OPTIM.STAGED_LR has no effect)")
    base_params, new_params = [], []
    for name, child in model.named_children():
        (new_params if name in new_layers else base_params).extend(child.parameters())
    return [
        {"params": base_params, "lr": optim_cfg.LR * optim_cfg.BASE_LR_MULT},
        {"params": new_params},
    ]


def build_optimizer(model, optim_cfg, param_groups=None):
    """Optimizer named by ``optim_cfg.NAME`` over ``param_groups`` if given, else over ``model``.

    ``model`` may be an nn.Module or an iterable of parameters / parameter-group dicts.
    The Adam family uses ``optim_cfg.EPS`` when the config has that key.
    """
    name = optim_cfg.NAME
    if name not in AVAI_OPTIMS:
        raise ValueError(f"OPTIM.NAME must be one of {AVAI_OPTIMS}, but got {name}")

    if param_groups is not None and optim_cfg.STAGED_LR:
        warnings.warn(
            "OPTIM.STAGED_LR is ignored when param_groups are given; set group lrs yourself"
        )
    if param_groups is None:
        if optim_cfg.STAGED_LR:
            param_groups = _staged_param_groups(model, optim_cfg)
        elif isinstance(model, nn.Module):
            param_groups = model.parameters()
        else:
            param_groups = model

    lr, weight_decay = optim_cfg.LR, optim_cfg.WEIGHT_DECAY
    adam_kwargs = {
        "lr": lr,
        "weight_decay": weight_decay,
        "betas": (optim_cfg.ADAM_BETA1, optim_cfg.ADAM_BETA2),
    }
    if "EPS" in optim_cfg:
        adam_kwargs["eps"] = optim_cfg.EPS

    if name == "adam":
        return torch.optim.Adam(param_groups, **adam_kwargs)
    if name == "amsgrad":
        return torch.optim.Adam(param_groups, amsgrad=True, **adam_kwargs)
    if name == "adamw":
        return torch.optim.AdamW(param_groups, **adam_kwargs)
    if name == "radam":
        # torch's RAdam; upstream ships its own copy with the same update rule
        return torch.optim.RAdam(param_groups, **adam_kwargs)
    if name == "sgd":
        return torch.optim.SGD(
            param_groups,
            lr=lr,
            momentum=optim_cfg.MOMENTUM,
            weight_decay=weight_decay,
            dampening=optim_cfg.SGD_DAMPNING,
            nesterov=optim_cfg.SGD_NESTEROV,
        )
    return torch.optim.RMSprop(
        param_groups,
        lr=lr,
        momentum=optim_cfg.MOMENTUM,
        weight_decay=weight_decay,
        alpha=optim_cfg.RMSPROP_ALPHA,
    )
