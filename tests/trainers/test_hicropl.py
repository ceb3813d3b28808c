"""HiCroPL against its independent statement, the two flows, its parameter count, its config
checks and its trainer's runs."""

import json

import pytest
import torch
from clip.model import build_model

from prompting.class_descriptions import (
    averaged_class_features,
    read_descriptions,
    template_descriptions,
)
from prompting.cross_modal_flow import CrossModalPrompts
from prompting.deep_prompt_model import DeepTextPrompts
from prompting.prompted_clip import total_loss
from run.user_errors import ConfigError, ModelOptionError
from tests.tolerances import (
    assert_close_in_norm,
    clip_size,
    cosine_term_atol,
    fp32_rtol,
    text_encoder_size,
)
from tests.trainers import independent_hicropl as ref
from tests.trainers.deep_prompt_helpers import (
    CLASSNAMES,
    LABELS,
    deeper_tiny_clip,
    images,
    perturb,
    trained_count,
    vit_b16_trained_count,
)
from tests.trainers.helpers import (
    NO_WARMUP,
    check_base_model_evaluates_on_new_classes,
    fixed_batch,
    make_trainer,
    optimised_parameters,
    training_losses,
)
from trainers.hicropl import HiCroPLModel

TEXT_WIDTH, VISION_WIDTH = 64, 128  # the tiny CLIP's
WEIGHT = 12.0
# The mapped prompts: a knowledge proxy's attention block, then the mapper's attention and MLP
# block, both at most VISION_WIDTH wide; two fp32 orderings of them.
MAPPED_PROMPTS_RTOL = fp32_rtol(2, max(TEXT_WIDTH, VISION_WIDTH))
SENTENCES = {
    name: [f"a photo of a {name}.", f"a drawing of a {name}.", f"the {name} in a picture."]
    for name in CLASSNAMES
}


def build_hicropl(clip_model, flow, depth=3, cross_layer=1, n_ctx=2, perturbed=True, heads=8):
    torch.manual_seed(0)
    text = DeepTextPrompts(CLASSNAMES, clip_model, n_ctx, depth, "a photo of a")
    learnable = CrossModalPrompts(text, clip_model, cross_layer, heads, flow)
    if perturbed:
        perturb(learnable)
    frozen_text = averaged_class_features(clip_model, CLASSNAMES, SENTENCES)
    return HiCroPLModel(clip_model, learnable, frozen_text, WEIGHT)


def reference(clip_model, model):
    frozen_text = ref.averaged_description_features(clip_model, SENTENCES.values())
    return ref.hicropl_logits_and_terms(
        clip_model,
        images(),
        LABELS,
        CLASSNAMES,
        "a photo of a",
        model.learnable,
        frozen_text,
        WEIGHT,
    )


@pytest.mark.numerical
@pytest.mark.parametrize("flow", ["in_place", "differentiable"])
@pytest.mark.parametrize("depth, cross_layer", [(2, 1), (3, 1), (3, 2)])
def test_logits_and_loss_terms_match_the_independent_statement(flow, depth, cross_layer):
    clip_model = deeper_tiny_clip()
    model = build_hicropl(clip_model, flow, depth, cross_layer)
    expected_logits, expected_terms, _ = reference(clip_model, model)
    logits, terms = model.training_loss(images(), LABELS)
    # two fp32 orderings of CLIP's blocks on a logit's path after the two mapping blocks
    blocks, width = clip_size(clip_model)
    rtol = fp32_rtol(blocks + 2, width)
    assert_close_in_norm(logits, expected_logits, rtol, "logits")
    assert set(terms) == {"ce", "text", "image"}
    assert_close_in_norm(terms["ce"], expected_terms["ce"], rtol, "ce")
    for name in ("text", "image"):
        difference = abs(terms[name].item() - expected_terms[name].item())
        assert difference <= cosine_term_atol(WEIGHT, rtol), name


@pytest.mark.numerical
def test_in_place_flow_writes_the_mapped_prompts_into_the_parameters():
    clip_model = deeper_tiny_clip()
    model = build_hicropl(clip_model, "in_place", depth=3, cross_layer=1)
    _, _, (text, visual) = reference(clip_model, model)
    before = [v.detach().clone() for v in model.learnable.visual]
    model(images())
    learnable = model.learnable
    for parameters, mapped in ((learnable.text.layers(), text), (learnable.visual, visual)):
        for parameter, expected in zip(parameters, mapped):
            assert_close_in_norm(parameter.detach(), expected, MAPPED_PROMPTS_RTOL, "mapped")
    assert not torch.allclose(learnable.visual[0], before[0])  # block 0 (< k) was mapped
    assert torch.equal(learnable.visual[2], before[2])  # a late visual set is a source only


def test_in_place_flow_trains_the_prompts_only_as_the_authors_code_does():
    model = build_hicropl(deeper_tiny_clip(), "in_place")
    total_loss(model.training_loss(images(), LABELS)[1]).backward()
    learnable = model.learnable
    prompts = [*learnable.text.layers(), *learnable.visual]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in prompts)
    flow_modules = [learnable.text_to_visual, learnable.visual_to_text]
    flow_modules += [*learnable.text_proxies, *learnable.visual_proxies]
    assert all(p.grad is None for module in flow_modules for p in module.parameters())


def test_differentiable_flow_trains_proxies_and_mappers_and_moves_no_parameter():
    model = build_hicropl(deeper_tiny_clip(), "differentiable")
    before = {k: v.clone() for k, v in model.learnable.state_dict().items()}
    total_loss(model.training_loss(images(), LABELS)[1]).backward()
    after = model.learnable.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    learnable = model.learnable
    for mapper in (learnable.text_to_visual, learnable.visual_to_text):
        assert mapper.linear_q.weight.grad.abs().sum() > 0
        assert mapper.mlp.c_proj.weight.grad.abs().sum() > 0
    for proxy in (learnable.text_proxies[0], learnable.visual_proxies[0]):
        assert proxy.token.grad.abs().sum() > 0
        assert proxy.attn.in_proj_weight.grad.abs().sum() > 0


def test_in_place_evaluation_maps_again_at_every_batch_and_caches_nothing():
    model = build_hicropl(deeper_tiny_clip(), "in_place")
    assert model.text_depends_on_image
    with torch.no_grad(), model.cached_text_features():
        first, second = model(images()), model(images())
    assert not torch.allclose(first, second)  # the authors' evaluation moves the prompts too
    differentiable = build_hicropl(deeper_tiny_clip(), "differentiable")
    assert not differentiable.text_depends_on_image
    with torch.no_grad(), differentiable.cached_text_features():
        torch.testing.assert_close(differentiable(images()), differentiable(images()))


def test_sets_and_proxies_of_a_modality_start_identical_as_separate_tensors():
    learnable = build_hicropl(deeper_tiny_clip(), "in_place", perturbed=False).learnable
    groups = [list(learnable.visual), [p.token for p in learnable.visual_proxies]]
    groups.append([p.attn.in_proj_weight for p in learnable.visual_proxies])
    for first, *others in groups:  # depth 3, k 1: three visual sets, two visual proxies
        assert len(others) >= 1
        for other in others:
            assert torch.equal(first, other)
            assert first.data_ptr() != other.data_ptr()
    text = learnable.text.layers()
    assert not torch.equal(text[1], text[2])  # text sets are drawn one by one
    assert learnable.visual[0].std() < 0.05  # N(0, 0.02^2)
    assert learnable.visual_proxies[0].token.std() > 0.5  # N(0, 1)


def test_trained_parameters_follow_the_formula():
    model = build_hicropl(deeper_tiny_clip(), "in_place", depth=3, cross_layer=1, n_ctx=2)
    dt, dv, depth, k, n = TEXT_WIDTH, VISION_WIDTH, 3, 1, 2

    def proxy(d):  # token, attention (in/out projections), two layer norms
        return d + 4 * d * d + 4 * d + 4 * d

    def mapper(h, e):  # q/k/v projections, attention, two layer norms, MLP 4x
        return (h * h + h) + 2 * (e * h + h) + (4 * h * h + 4 * h) + 4 * h + (8 * h * h + 5 * h)

    expected = depth * n * (dt + dv) + k * proxy(dt) + (depth - k) * proxy(dv)
    expected += mapper(dv, dt) + mapper(dt, dv)
    assert trained_count(model) == expected
    model.check_trained_parameters()


@pytest.mark.slow
@pytest.mark.parametrize(
    "config, expected",
    [
        # 12 x 16 x (512 + 768) prompts + 6 text and 6 visual LKPs + the two mappers
        ("vit_b16_c2_ep50_batch32_16ctx.yaml", 33_431_040),
        ("vit_b16_c2_ep5_batch32_2ctx_cross_datasets.yaml", 20_316_416),
    ],
)
def test_published_configs_train_the_authors_number_of_parameters_on_vit_b16(config, expected):
    assert vit_b16_trained_count("HiCroPL", config) == expected


@pytest.mark.parametrize(
    "option, value, key",
    [
        ("TRAINER.HICROPL.CROSS_LAYER", 0, "CROSS_LAYER"),
        ("TRAINER.HICROPL.CROSS_LAYER", 2, "CROSS_LAYER"),  # = PROMPT_DEPTH 2
        ("TRAINER.HICROPL.PROMPT_DEPTH", 1, "PROMPT_DEPTH"),
        ("TRAINER.HICROPL.FLOW", "both", "FLOW"),
        ("TRAINER.HICROPL.DISTILLATION_WEIGHT", -1.0, "DISTILLATION_WEIGHT"),
        ("TRAINER.HICROPL.MAPPER_HEADS", 0, "MAPPER_HEADS"),
        ("TRAINER.HICROPL.DESCRIPTIONS", "/nonexistent/gpt.json", "DESCRIPTIONS"),
        ("TRAINER.HICROPL.CTX_INIT", "a photo of a", "CTX_INIT"),  # 4 words for 16 tokens
    ],
)
def test_impossible_options_are_config_errors_naming_the_key(option, value, key, toy, tmp_path):
    with pytest.raises(ConfigError, match=f"TRAINER.HICROPL.{key}"):
        make_trainer("HiCroPL", toy, tmp_path, option, value)


@pytest.mark.parametrize(
    "option, value, error",
    [
        ("TRAINER.HICROPL.PROMPT_DEPTH", 3, ConfigError),  # the tiny CLIP has 2 blocks
        ("TRAINER.HICROPL.MAPPER_HEADS", 3, ModelOptionError),  # 3 does not divide 64
    ],
)
def test_options_that_do_not_fit_the_clip_are_refused(option, value, error, toy, tmp_path):
    with pytest.raises(error, match=option):
        make_trainer("HiCroPL", toy, tmp_path, option, value)


@pytest.mark.numerical
def test_descriptions_file_gives_the_averaged_frozen_text_features(tmp_path):
    path = tmp_path / "gpt.json"
    path.write_text(json.dumps({name.replace("_", " "): s for name, s in SENTENCES.items()}))
    clip_model = deeper_tiny_clip()
    descriptions = read_descriptions(str(path), CLASSNAMES, "KEY")
    features = averaged_class_features(clip_model, CLASSNAMES, descriptions)
    expected = ref.averaged_description_features(clip_model, SENTENCES.values())
    # two fp32 orderings of the text encoder (a mean of 3 sentences' features adds sqrt(3) u)
    assert_close_in_norm(features, expected, fp32_rtol(*text_encoder_size(clip_model)))
    path.write_text(json.dumps({"red circle": ["a red circle."]}))
    with pytest.raises(ConfigError, match='KEY .* no list of sentences for the class "green'):
        read_descriptions(str(path), CLASSNAMES, "KEY")
    path.write_text("[1, 2")
    with pytest.raises(ConfigError, match="cannot read it as JSON"):
        read_descriptions(str(path), CLASSNAMES, "KEY")


def test_without_a_descriptions_file_the_templates_describe_each_class():
    table = template_descriptions(["blue_triangle"], ("a photo of a {}.", "a {} drawn."))
    assert table == {"blue_triangle": ["a photo of a blue triangle.", "a blue triangle drawn."]}


def test_trainer_optimises_exactly_the_learnable_module(toy, tmp_path):
    trainer = make_trainer("HiCroPL", toy, tmp_path)
    assert optimised_parameters(trainer) == {id(p) for p in trainer.model.learnable.parameters()}


def test_base_checkpoint_evaluates_on_new_classes(toy, tmp_path):
    attention = ("attn.in_proj_weight", "attn.in_proj_bias")
    attention += ("attn.out_proj.weight", "attn.out_proj.bias")
    norms = ("ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias")
    linears = ("linear_q", "linear_k", "linear_v", "mlp.c_fc", "mlp.c_proj")
    mapper = attention + norms + tuple(f"{n}.{p}" for n in linears for p in ("weight", "bias"))
    proxy = ("token",) + attention + norms
    keys = ["text.prompt_learner.ctx", "text.deep.0", "visual.0", "visual.1"]
    keys += [f"{m}.{k}" for m in ("text_to_visual", "visual_to_text") for k in mapper]
    keys += [f"{m}.0.{k}" for m in ("text_proxies", "visual_proxies") for k in proxy]
    check_base_model_evaluates_on_new_classes("HiCroPL", toy, tmp_path, keys)


@pytest.mark.parametrize("flow", ["in_place", "differentiable"])
def test_amp_matches_fp32_and_trains_the_prompts(flow, toy, tmp_path):
    trainer = make_trainer(
        "HiCroPL", toy, tmp_path, *NO_WARMUP, "TRAINER.HICROPL.FLOW", flow, prec="amp"
    )
    image, label = fixed_batch(trainer)
    learnable = trainer.model.learnable
    start = {k: v.clone() for k, v in learnable.state_dict().items()}
    with torch.no_grad():
        loss_fp32 = total_loss(trainer.model.training_loss(image, label)[1])
        learnable.load_state_dict(start)  # in place, the forward pass moved the prompts
        with trainer.autocast():
            logits, terms = trainer.model.training_loss(image, label)
    assert logits.dtype == torch.bfloat16  # autocast ran inside CLIP (bf16 on the CPU)
    # bf16 keeps 8 mantissa bits (relative rounding 2^-8) through a few blocks: 2% of the loss
    assert abs(total_loss(terms).item() - loss_fp32.item()) <= 0.02 * loss_fp32.item()
    learnable.load_state_dict(start)
    losses = training_losses(trainer, image, label, steps=2)
    assert all(torch.isfinite(torch.tensor(losses)))
    assert all(p.dtype == torch.float32 for p in learnable.parameters())  # fp32 master weights
    assert not torch.equal(start["visual.1"], learnable.visual[1].detach())  # a trained prompt


def test_model_trains_and_predicts_on_an_fp16_clip(toy, tmp_path, tiny_clip):
    trainer = make_trainer("HiCroPL", toy, tmp_path)
    clip16 = build_model(tiny_clip.state_dict()).requires_grad_(False)  # fp16, as official files
    model = trainer.build_custom_clip(trainer.dm.dataset.classnames, clip16)
    logits, terms = model.training_loss(torch.randn(2, 3, 32, 32), torch.tensor([0, 1]))
    assert logits.shape == (2, trainer.dm.num_classes)
    loss = total_loss(terms)
    assert torch.isfinite(loss)
    loss.backward()
    assert model.learnable.text.prompt_learner.ctx.grad.abs().sum() > 0
    assert model.learnable.visual[-1].grad.abs().sum() > 0
