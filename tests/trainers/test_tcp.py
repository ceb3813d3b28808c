"""TCP against its equations written out plainly (tests/trainers/independent_tcp.py): logits,
both loss terms and the gradients of every trained tensor; what it trains; base to new."""

from types import SimpleNamespace

import pytest
import torch
from clip.model import build_model

from run.user_errors import ConfigError
from tests.tolerances import (
    assert_close_in_norm,
    clip_size,
    cosine_term_atol,
    fp32_gradient_rtol,
    fp32_rtol,
)
from tests.trainers.helpers import (
    check_amp_matches_fp32,
    check_base_model_evaluates_on_new_classes,
    fixed_batch,
    make_trainer,
    optimised_parameters,
    trained_parameter_names,
)
from tests.trainers.independent_tcp import tcp_logits_and_terms

META_NET = {
    "learnable.meta_net.linear1.weight",
    "learnable.meta_net.linear1.bias",
    "learnable.meta_net.linear2.weight",
    "learnable.meta_net.linear2.bias",
}


def test_trains_the_context_and_the_meta_net(toy, tmp_path):
    trainer = make_trainer("TCP", toy, tmp_path)
    assert trained_parameter_names(trainer) == {"learnable.ctx"} | META_NET
    assert len(optimised_parameters(trainer)) == 5
    learner = trainer.model.learnable
    # the tiny CLIP: text width 64, embedding width 32 -> meta-net 32 -> 8 -> 4 * 64
    assert learner.ctx.shape == (4, 64)
    assert learner.meta_net.linear1.weight.shape == (8, 32)
    assert learner.meta_net.linear2.weight.shape == (4 * 64, 8)


@pytest.mark.numerical
@pytest.mark.parametrize("weight", [8.0, 2.5])
def test_logits_terms_and_gradients_match_independent_implementation(toy, tmp_path, weight):
    trainer = make_trainer("TCP", toy, tmp_path, "TRAINER.TCP.W", weight)
    model = trainer.model
    torch.manual_seed(1)
    with torch.no_grad():  # away from the initialisation, so that every tensor matters
        for parameter in model.learnable.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    image, label = fixed_batch(trainer)
    clip_model = build_model(
        torch.load(toy.tiny_clip_path, weights_only=True)["state_dict"]
    ).float()
    learner = model.learnable
    leaves = {
        name: parameter.detach().clone().requires_grad_(True)
        for name, parameter in learner.named_parameters()
    }
    meta = {
        layer: SimpleNamespace(
            weight=leaves[f"meta_net.{layer}.weight"], bias=leaves[f"meta_net.{layer}.bias"]
        )
        for layer in ("linear1", "linear2")
    }
    block = trainer.cfg.TRAINER.TCP.CLASS_TOKEN_DEPTH - 1
    logits, ce, kg = tcp_logits_and_terms(
        clip_model,
        image,
        label,
        trainer.dm.dataset.classnames,
        leaves["ctx"],
        meta,
        block,
        weight,
    )
    names = list(leaves)
    expected = torch.autograd.grad(ce + kg, list(leaves.values()))

    # two fp32 orderings of the blocks on a logit's path; the meta-net's two small linear
    # layers count as one more block
    blocks, width = clip_size(clip_model)
    rtol, gradient_rtol = fp32_rtol(blocks + 1, width), fp32_gradient_rtol(blocks + 1, width)
    actual_logits, terms = model.training_loss(image, label)
    assert_close_in_norm(actual_logits, logits.detach(), rtol, "logits")
    assert set(terms) == {"ce", "kg"}
    assert_close_in_norm(terms["ce"].detach(), ce.detach(), rtol, "ce")
    assert abs(terms["kg"].item() - kg.item()) <= cosine_term_atol(weight, rtol)
    assert kg.item() > 1e-3  # the term is not trivially zero here
    actual = torch.autograd.grad(sum(terms.values()), list(learner.parameters()))
    for name, got, want in zip(names, actual, expected):
        assert_close_in_norm(got, want, gradient_rtol, name)
    with torch.no_grad():  # test time: the same logits
        assert_close_in_norm(model(image), logits.detach(), rtol, "test-time logits")


def test_base_model_evaluates_on_new_classes(toy, tmp_path):
    check_base_model_evaluates_on_new_classes(
        "TCP", toy, tmp_path, {"ctx"} | {name.removeprefix("learnable.") for name in META_NET}
    )


def test_amp_matches_fp32(toy, tmp_path):
    check_amp_matches_fp32("TCP", toy, tmp_path)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("CLASS_TOKEN_DEPTH", 1, "TRAINER.TCP.CLASS_TOKEN_DEPTH must be >= 2"),
        ("CLASS_TOKEN_DEPTH", 3, "between 2 and 2"),  # the tiny CLIP has 2 text blocks
        ("W", -1.0, "TRAINER.TCP.W"),
        ("N_CTX", 0, "TRAINER.TCP.N_CTX"),
        ("TEMPLATES", "nope", "TRAINER.TCP.TEMPLATES"),
    ],
)
def test_impossible_options_are_refused_naming_the_key(toy, tmp_path, option, value, message):
    with pytest.raises(ConfigError, match=message):
        make_trainer("TCP", toy, tmp_path, f"TRAINER.TCP.{option}", value)
