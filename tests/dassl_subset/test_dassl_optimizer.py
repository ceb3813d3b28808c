import pytest
import torch
import torch.nn as nn
from dassl.config import get_cfg_default
from dassl.optim import build_optimizer


def _optim_cfg(**overrides):
    cfg = get_cfg_default().OPTIM
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


@pytest.mark.parametrize(
    "name, optimizer_class",
    [
        ("sgd", torch.optim.SGD),
        ("adam", torch.optim.Adam),
        ("amsgrad", torch.optim.Adam),
        ("adamw", torch.optim.AdamW),
        ("rmsprop", torch.optim.RMSprop),
        ("radam", torch.optim.RAdam),
    ],
)
def test_name_selects_the_torch_optimizer(name, optimizer_class):
    optimizer = build_optimizer(nn.Linear(2, 2), _optim_cfg(NAME=name, LR=0.5))
    assert type(optimizer) is optimizer_class
    assert optimizer.param_groups[0]["lr"] == 0.5
    assert optimizer.param_groups[0].get("amsgrad", False) is (name == "amsgrad")


def test_adam_family_uses_optim_eps_and_betas():
    cfg = _optim_cfg(NAME="adamw", EPS=1e-3, ADAM_BETA1=0.8, ADAM_BETA2=0.99, WEIGHT_DECAY=0.01)
    group = build_optimizer(nn.Linear(2, 2), cfg).param_groups[0]
    assert group["eps"] == 1e-3 and group["betas"] == (0.8, 0.99) and group["weight_decay"] == 0.01


def test_sgd_uses_momentum_dampening_and_nesterov_keys():
    cfg = _optim_cfg(NAME="sgd", MOMENTUM=0.5, SGD_DAMPNING=0, SGD_NESTEROV=True)
    group = build_optimizer(nn.Linear(2, 2), cfg).param_groups[0]
    assert group["momentum"] == 0.5 and group["nesterov"] is True


def test_accepts_a_parameter_list_and_explicit_param_groups():
    weight = nn.Parameter(torch.zeros(3))
    assert build_optimizer([weight], _optim_cfg(NAME="sgd")).param_groups[0]["params"] == [weight]
    groups = [{"params": [weight], "lr": 0.123}]
    optimizer = build_optimizer(
        nn.Linear(2, 2), _optim_cfg(NAME="sgd", LR=1.0), param_groups=groups
    )
    assert (
        optimizer.param_groups[0]["params"] == [weight] and optimizer.param_groups[0]["lr"] == 0.123
    )


def test_staged_lr_scales_all_but_new_layers():
    model = nn.Sequential()
    model.add_module("backbone", nn.Linear(2, 2))
    model.add_module("head", nn.Linear(2, 2))
    cfg = _optim_cfg(NAME="sgd", LR=1.0, STAGED_LR=True, NEW_LAYERS=("head",), BASE_LR_MULT=0.1)
    base_group, new_group = build_optimizer(model, cfg).param_groups
    assert base_group["lr"] == pytest.approx(0.1) and new_group["lr"] == 1.0
    assert new_group["params"][0] is model.head.weight


def test_unknown_name_lists_valid_optimizers():
    with pytest.raises(ValueError, match="adamw"):
        build_optimizer(nn.Linear(2, 2), _optim_cfg(NAME="lamb"))
