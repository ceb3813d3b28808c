"""ProGrad against its equations written out plainly (tests/trainers/independent_prograd.py):
the zero-shot prompts, the context's start, both losses, the projected step, and the
checkpoint round trip from base to new classes."""

import pytest
import torch
import torch.nn.functional as F
from clip import clip
from clip.model import build_model

from tests.tolerances import (
    assert_close_in_norm,
    clip_size,
    fp32_gradient_rtol,
    fp32_rtol,
    fp32_sum_rtol,
    text_encoder_size,
)
from tests.trainers.helpers import (
    NO_WARMUP,
    check_amp_matches_fp32,
    check_base_model_evaluates_on_new_classes,
    fixed_batch,
    make_trainer,
    optimised_parameters,
    trained_parameter_names,
)
from tests.trainers.independent_prograd import (
    cosine,
    first_sgd_step,
    prograd_logits_and_losses,
    projected,
)
from trainers.prograd import distillation_loss, projected_gradient


def tiny_clip(toy):
    return build_model(torch.load(toy.tiny_clip_path, weights_only=True)["state_dict"]).float()


@pytest.mark.numerical
def test_distillation_loss_is_kl_divergence_plus_teacher_entropy_times_t_squared():
    torch.manual_seed(0)
    student, teacher = torch.randn(5, 7), torch.randn(5, 7)
    for temperature in (1.0, 2.5):
        p_teacher = F.softmax(teacher / temperature, dim=-1)
        kl = (p_teacher * (p_teacher.log() - F.log_softmax(student / temperature, -1))).sum(-1)
        entropy = -(p_teacher * p_teacher.log()).sum(-1)
        expected = ((kl + entropy) * temperature**2).mean()
        actual = distillation_loss(student, teacher, temperature)
        # a sum of 5 x 7 positive terms, each through about 4 roundings (exp, the softmax's
        # division, log, product)
        assert actual.item() == pytest.approx(expected.item(), rel=fp32_sum_rtol(5 * 7, 4))


@pytest.mark.parametrize("strength", [1.0, 0.8, 0.0])
def test_conflicting_task_gradient_loses_that_share_of_its_general_component(strength):
    general = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    task = torch.tensor([[-3.0, 1.0], [0.5, 0.0]])  # inner product -6: they conflict
    expected = torch.tensor([[-3.0 + 3.0 * strength, 1.0], [0.5, 0.0]])
    assert torch.allclose(projected_gradient(task, general, strength), expected)
    if strength == 1.0:  # what is left is orthogonal to the general direction
        assert (projected_gradient(task, general, 1.0) * general).sum() == 0


def test_aligned_or_orthogonal_task_gradient_and_zero_general_gradient_pass_unchanged():
    general = torch.tensor([1.0, 1.0, 0.0])
    for task in (torch.tensor([1.0, 0.0, 5.0]), torch.tensor([1.0, -1.0, 2.0])):
        assert torch.equal(projected_gradient(task, general, 1.0), task)
    task = torch.tensor([1.0, -2.0, 3.0])
    assert torch.equal(projected_gradient(task, torch.zeros(3), 1.0), task)


@pytest.mark.numerical
def test_zero_shot_prompts_come_from_prograd_template_table_and_the_one_clip(toy, tmp_path):
    trainer = make_trainer("ProGrad", toy, tmp_path)
    names = [name.replace("_", " ") for name in trainer.dm.dataset.classnames]
    with torch.no_grad():
        expected = tiny_clip(toy).encode_text(clip.tokenize([f"a photo of a {n}." for n in names]))
    expected = expected / expected.norm(dim=-1, keepdim=True)
    rtol = fp32_rtol(*text_encoder_size(tiny_clip(toy)))  # two fp32 text encoder passes
    assert_close_in_norm(trainer.model.zero_shot_text_features, expected, rtol)
    assert "zero_shot_text_features" not in trainer.model.state_dict()


def test_context_starts_as_zero_vectors_then_the_template_phrase(toy, tmp_path):
    # OxfordPets' phrase "a type of pet, a photo of a": 8 words, 9 tokens (the comma)
    from prompting.text_encoder import tokenize
    from trainers.prograd import template_context

    clip_model = tiny_clip(toy)
    vectors, placeholder = template_context(clip_model, "a type of pet, a photo of a {}.", 16)
    tokens = clip.tokenize(["a type of pet, a photo of a"])[0]
    embedding = clip_model.token_embedding.weight[tokens]
    assert torch.equal(vectors[:8], torch.zeros(8, vectors.shape[1]))
    assert torch.equal(vectors[8:], embedding[1:9])  # the first 8 of its 9 tokens
    assert placeholder == "X X X X X X X X a type of pet, a photo of a"
    assert tokenize([placeholder + " dog."])[0, 17].item() == tokens[9].item()  # the last "a"


def test_phrase_longer_than_the_context_is_refused(toy):
    from run.user_errors import ModelOptionError
    from trainers.prograd import template_context

    with pytest.raises(ModelOptionError, match="N_CTX"):
        template_context(tiny_clip(toy), "a type of pet, a photo of a {}.", 4)


def test_only_the_context_is_trained(toy, tmp_path):
    trainer = make_trainer("ProGrad", toy, tmp_path)
    assert trained_parameter_names(trainer) == {"learnable.ctx"}
    assert optimised_parameters(trainer) == {id(trainer.model.learnable.ctx)}
    assert trainer.model.learnable.ctx.shape == (16, 64)  # N_CTX x the tiny CLIP's text width


def step_against_independent_statement(trainer, toy, image, label):
    """One trainer step, and the same step from the plain equations; returns the inner product
    of the plain task and general gradients."""
    node = trainer.cfg.TRAINER.PROGRAD
    clip_model = tiny_clip(toy)
    names = trainer.dm.dataset.classnames
    phrase = "X X X X X X X X X X X X a photo of a"  # Caltech101's phrase, 12 zeros in front
    ctx = trainer.model.learnable.ctx.detach().clone().requires_grad_(True)
    zs_prompts = [f"a photo of a {name.replace('_', ' ')}." for name in names]
    logits, _, ce, kl = prograd_logits_and_losses(
        clip_model, image, label, names, phrase, ctx, zs_prompts, node.T
    )
    (task,) = torch.autograd.grad(ce, ctx, retain_graph=True)
    (general,) = torch.autograd.grad(kl, ctx)
    expected = first_sgd_step(
        ctx.detach(),
        projected(task, general, node.LAMBDA),
        trainer.cfg.OPTIM.LR,
        trainer.cfg.OPTIM.MOMENTUM,
        trainer.cfg.OPTIM.WEIGHT_DECAY,
    )

    # two fp32 orderings of the blocks on a logit's path, forward and backward
    rtol, gradient_rtol = (
        fp32_rtol(*clip_size(clip_model)),
        fp32_gradient_rtol(*clip_size(clip_model)),
    )
    with torch.no_grad():
        actual_logits, terms = trainer.model.training_loss(image, label)
    assert_close_in_norm(actual_logits, logits.detach(), rtol, "logits")
    assert terms["ce"].item() == pytest.approx(ce.item(), rel=rtol)
    assert terms["kl"].item() == pytest.approx(kl.item(), rel=rtol)
    trainer.set_model_mode("train")
    trainer.batch_idx, trainer.num_batches = 0, 2
    summary = trainer.forward_backward({"img": image, "label": label})
    assert summary["loss"] == pytest.approx(ce.item(), rel=rtol)
    assert summary["kl"] == pytest.approx(kl.item(), rel=rtol)
    step = trainer.model.learnable.ctx.detach() - ctx.detach()
    # The step is read back as the difference of two fp32 parameters (each rounded to half an
    # ulp of the largest context value), and the projection of nearly opposite gradients leaves
    # a small difference of large components: its error is the gradients' relative error times
    # the task gradient's size, times the learning rate.
    rounding = torch.finfo(torch.float32).eps * ctx.detach().abs().max().item()
    cancellation = trainer.cfg.OPTIM.LR * gradient_rtol * task.abs().max().item()
    torch.testing.assert_close(
        step, expected - ctx.detach(), rtol=gradient_rtol, atol=rounding + cancellation
    )
    return cosine(task, general)


@pytest.mark.parametrize(
    "strength",
    [pytest.param(1.0, marks=pytest.mark.numerical), pytest.param(0.8, marks=pytest.mark.slow)],
)
def test_step_is_the_sgd_step_along_the_projected_task_gradient(toy, tmp_path, strength):
    cosines = []
    # the true labels, then labels shifted by one class: the cross-entropy then pulls away from
    # zero-shot CLIP's prediction, so the two gradients conflict and the projection acts
    for shift in (0, 1):
        trainer = make_trainer(
            "ProGrad", toy, tmp_path / str(shift), *NO_WARMUP, "TRAINER.PROGRAD.LAMBDA", strength
        )
        image, label = fixed_batch(trainer)
        label = (label + shift) % trainer.num_classes
        cosines.append(step_against_independent_statement(trainer, toy, image, label))
    assert min(cosines) < 0, cosines  # the projecting branch was exercised


def test_base_model_evaluates_on_new_classes(toy, tmp_path):
    check_base_model_evaluates_on_new_classes("ProGrad", toy, tmp_path, {"ctx"})


def test_amp_matches_fp32(toy, tmp_path):
    check_amp_matches_fp32("ProGrad", toy, tmp_path)


@pytest.mark.parametrize(
    "option, value, key",
    [
        ("LAMBDA", 1.5, "TRAINER.PROGRAD.LAMBDA"),
        ("T", 0.0, "TRAINER.PROGRAD.T"),
        ("TEMPLATES", "nope", "TRAINER.PROGRAD.TEMPLATES"),
        ("CSC", True, "INIT_FROM_TEMPLATE"),
    ],
)
def test_impossible_options_are_refused_naming_the_key(toy, tmp_path, option, value, key):
    from run.user_errors import ConfigError

    with pytest.raises(ConfigError, match=key):
        make_trainer("ProGrad", toy, tmp_path, f"TRAINER.PROGRAD.{option}", value)
