import math

import pytest
import torch
import torch.nn.functional as F
from clip import clip
from clip.model import build_model

import trainers.prompt_trainer
from prompting.prompted_clip import consistency_loss, total_loss
from run.config import project_cfg_default
from tests.tolerances import (
    assert_close_in_norm,
    fp32_rtol,
    fp32_sum_rtol,
    text_encoder_size,
    unit_norm_atol,
)
from tests.trainers.helpers import (
    check_amp_matches_fp32,
    check_base_model_evaluates_on_new_classes,
    count_calls,
    fixed_batch,
    make_trainer,
    optimised_parameters,
    trained_parameter_names,
)


def rotated(features, angle):
    """Unit vectors at ``angle`` from each row of ``features`` (rows are unit vectors)."""
    orthogonal = torch.randn_like(features)
    orthogonal -= (orthogonal * features).sum(-1, keepdim=True) * features
    orthogonal = F.normalize(orthogonal, dim=-1)
    return math.cos(angle) * features + math.sin(angle) * orthogonal


@pytest.mark.numerical
def test_guidance_term_is_zero_for_equal_features_and_grows_with_the_angle():
    torch.manual_seed(0)
    template = F.normalize(torch.randn(5, 16), dim=-1)
    # 1 - cos of fp32 unit vectors of width 16: the cosine errs as a unit vector's norm does
    atol = unit_norm_atol(16)
    assert consistency_loss(template, template).item() == pytest.approx(0.0, abs=atol)
    angles = [0.1, 0.5, 1.0, 2.0]
    terms = [consistency_loss(rotated(template, a), template).item() for a in angles]
    assert terms == pytest.approx([1 - math.cos(a) for a in angles], abs=atol)
    assert terms == sorted(terms)


def test_kgcoop_default_weight_is_8():
    assert project_cfg_default().TRAINER.KGCOOP.W == 8.0


@pytest.mark.numerical
def test_kgcoop_template_features_come_once_from_the_one_loaded_clip(toy, tmp_path, monkeypatch):
    # monkeypatch restores the original after the test; count_calls wraps it meanwhile
    monkeypatch.setattr(
        trainers.prompt_trainer, "load_clip_to_cpu", trainers.prompt_trainer.load_clip_to_cpu
    )
    loads = count_calls(trainers.prompt_trainer, "load_clip_to_cpu")
    trainer = make_trainer("KgCoOp", toy, tmp_path)
    assert len(loads) == 1

    # an independently loaded CLIP on the literal Caltech101 prompts
    clip_model = build_model(
        torch.load(toy.tiny_clip_path, weights_only=True)["state_dict"]
    ).float()
    names = [name.replace("_", " ") for name in trainer.dm.dataset.classnames]
    with torch.no_grad():
        expected = clip_model.encode_text(clip.tokenize([f"a photo of a {n}." for n in names]))
    expected = expected / expected.norm(dim=-1, keepdim=True)
    rtol = fp32_rtol(*text_encoder_size(clip_model))  # two fp32 text encoder passes
    assert_close_in_norm(trainer.model.template_text_features, expected, rtol)
    assert "template_text_features" not in trainer.model.state_dict()


@pytest.mark.numerical
def test_kgcoop_loss_is_cross_entropy_plus_weighted_guidance(toy, tmp_path):
    trainer = make_trainer("KgCoOp", toy, tmp_path, "TRAINER.KGCOOP.W", 3.0)
    model = trainer.model
    image, label = fixed_batch(trainer)
    with torch.no_grad():
        # ctx "a photo of a" + Caltech101's template "a photo of a {}.": the same prompts
        logits, terms = model.training_loss(image, label)
        loss = total_loss(terms)
        # the same cross-entropy, plus W x (1 - cos) of features equal up to rounding
        atol = 3.0 * unit_norm_atol(model.text_encoder.text_projection.shape[1])
        assert loss.item() == pytest.approx(F.cross_entropy(logits, label).item(), abs=atol)
        model.learnable.ctx.add_(0.05 * torch.randn_like(model.learnable.ctx))
        logits, terms = model.training_loss(image, label)
        loss = total_loss(terms)
        guidance = consistency_loss(model.compute_text_features(), model.template_text_features)
    assert guidance.item() > 1e-4
    # the same two terms, summed in fp32 (one product W x guidance, one addition) against float64
    expected = F.cross_entropy(logits, label).item() + 3.0 * guidance.item()
    assert loss.item() == pytest.approx(expected, rel=fp32_sum_rtol(2, 1))


def test_kgcoop_trains_only_the_context(toy, tmp_path):
    trainer = make_trainer("KgCoOp", toy, tmp_path)
    assert trained_parameter_names(trainer) == {"learnable.ctx"}
    assert optimised_parameters(trainer) == {id(trainer.model.learnable.ctx)}
    assert set(trainer._models["prompt_learner"].state_dict()) == {"ctx"}


def test_kgcoop_logits_have_one_column_per_class(toy, tmp_path):
    trainer = make_trainer("KgCoOp", toy, tmp_path)
    image, _ = fixed_batch(trainer)
    assert trainer.model(image).shape == (image.shape[0], trainer.dm.num_classes)


def test_kgcoop_rejects_a_negative_weight(toy, tmp_path):
    with pytest.raises(ValueError, match="TRAINER.KGCOOP.W"):
        make_trainer("KgCoOp", toy, tmp_path, "TRAINER.KGCOOP.W", -1.0)


def test_kgcoop_base_checkpoint_evaluates_on_new_classes(toy, tmp_path):
    _, new = check_base_model_evaluates_on_new_classes("KgCoOp", toy, tmp_path, {"ctx"})
    assert new.model.template_text_features.shape[0] == new.dm.num_classes


def test_kgcoop_amp_on_cpu_matches_fp32(toy, tmp_path):
    check_amp_matches_fp32("KgCoOp", toy, tmp_path)
