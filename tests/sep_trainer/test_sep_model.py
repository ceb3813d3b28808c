"""SEPModel against an independent statement of docs/methods/sep.md, and the method's invariants."""

import pytest
import torch
from clip.model import CLIP

from prompting.prompted_clip import total_loss
from run.config import project_cfg_default
from tests.sep_trainer import independent_sep as ref
from tests.tolerances import (
    BF16_UNIT_ROUNDOFF,
    assert_close_in_norm,
    assert_far_in_norm,
    bf16_autocast_error,
    clip_size,
    cosine_term_atol,
    cross_entropy_atol,
    fp32_rtol,
    fp32_sum_rtol,
    prompted_clip_size,
)
from tests.trainers.helpers import record_output_dtypes
from tools.make_tiny_clip import TINY_VIT
from trainers.sep import sep_model

CLASSNAMES = ["red circle", "green square", "blue triangle", "yellow cross"]


def sep_cfg(**overrides):
    node = project_cfg_default().TRAINER.SEP.clone()
    for key, value in overrides.items():
        node[key] = value
    return node


def build_model(clip_model, **overrides):
    torch.manual_seed(0)
    model = sep_model(clip_model, CLASSNAMES, "Caltech101", sep_cfg(**overrides))
    # Non-trivial learned state: random prototypes and fusion scales away from their init.
    with torch.no_grad():
        model.learnable.prototype.weight.normal_()
        for name, param in model.learnable.named_parameters():
            if "scale" in name:
                param.uniform_(0.2, 0.9)
    return model


def logits_and_loss(model, images, labels):
    """The model's logits and the loss it optimises (the sum of its terms)."""
    logits, terms = model.training_loss(images, labels)
    return logits, total_loss(terms)


def independent_outputs(model, clip_model, images, labels, cfg):
    """The oracle's logits and loss for the model's learned tensors; g0 from literal prompts."""
    learner = model.prompt_learner
    text_tfms = {int(k): v for k, v in model.learnable.text_fusion.items()}
    visual = model.learnable.visual_prompts
    visual_tfms = {int(k): v for k, v in visual.fusion_modules.items()}
    weights = SEP_MD_WEIGHTS  # the models here keep the default weights
    frozen_text = ref.frozen_text_features(
        clip_model, [f"a photo of a {name}." for name in CLASSNAMES]
    )
    return ref.sep_logits_and_loss(
        clip_model,
        images,
        labels,
        (learner.ctx, CLASSNAMES, text_tfms, cfg.ATTENTION_AXIS),
        (visual.tokens, visual_tfms, cfg.SELECTION_MODE, cfg.ATTENTION_AXIS),
        model.learnable.prototype.weight,
        frozen_text,
        weights,
    )


@pytest.fixture
def images():
    torch.manual_seed(1)
    return torch.randn(5, 3, 32, 32)


LABELS = torch.tensor([0, 1, 2, 3, 1])
# docs/methods/sep.md's loss: W_text 8, W_visual 6, prototype term 0.5 with cosine scale 10
SEP_MD_WEIGHTS = dict(text=8.0, visual=6.0, proto=0.5, scale=10.0)


@pytest.mark.numerical
@pytest.mark.parametrize("selection_mode", ["batch", "sample"])
@pytest.mark.parametrize("attention_axis", ["reference", "per_input"])
def test_logits_and_loss_match_independent_implementation(
    tiny_clip, images, selection_mode, attention_axis
):
    model = build_model(tiny_clip, SELECTION_MODE=selection_mode, ATTENTION_AXIS=attention_axis)
    logits, terms = model.training_loss(images, LABELS)
    loss = total_loss(terms)
    expected_logits, expected_loss = independent_outputs(
        model,
        tiny_clip,
        images,
        LABELS,
        sep_cfg(SELECTION_MODE=selection_mode, ATTENTION_AXIS=attention_axis),
    )
    assert_close_in_norm(logits, expected_logits, fp32_rtol(*clip_size(tiny_clip)))
    assert_close_in_norm(loss, expected_loss, fp32_rtol(*clip_size(tiny_clip)))
    assert_close_in_norm(model(images), expected_logits, fp32_rtol(*clip_size(tiny_clip)))


# Four blocks per encoder, so the default fusion runs three TFMs in sequence before blocks 1..3;
# text width 128 with CLIP's 4 heads of 32 while the method note gives text TFMs 128 / 64 = 2 heads,
# vision width 256 with 4 heads in both, so neither head count can stand in for the other.
DEEP_CLIP = dict(
    TINY_VIT,
    vision_layers=4,
    vision_width=256,
    transformer_width=128,
    transformer_heads=4,
    transformer_layers=4,
)


@pytest.fixture(scope="module")
def deep_clip():
    torch.manual_seed(3)
    return CLIP(**DEEP_CLIP).eval()


@pytest.mark.numerical
@pytest.mark.parametrize(
    "fusion_layers, selection_mode, attention_axis",
    [
        ((), "batch", "reference"),
        ((), "sample", "reference"),
        ((), "batch", "per_input"),
        ((), "sample", "per_input"),
        ((0, 2), "batch", "reference"),
    ],
)
def test_deep_multi_head_clip_matches_independent_implementation(
    deep_clip, images, fusion_layers, selection_mode, attention_axis
):
    options = dict(
        FUSION_LAYERS=fusion_layers, SELECTION_MODE=selection_mode, ATTENTION_AXIS=attention_axis
    )
    model = build_model(deep_clip, **options)
    layers = fusion_layers or (1, 2, 3)  # empty: every block but the first
    assert model.text_encoder.fusion_layers == model.prompted_image_encoder.fusion_layers == layers
    logits, loss = logits_and_loss(model, images, LABELS)
    expected_logits, expected_loss = independent_outputs(
        model, deep_clip, images, LABELS, sep_cfg(**options)
    )
    assert_close_in_norm(logits, expected_logits, fp32_rtol(*clip_size(deep_clip)))
    assert_close_in_norm(loss, expected_loss, fp32_rtol(*clip_size(deep_clip)))


@pytest.mark.numerical
def test_custom_fusion_layers_match_independent_implementation(tiny_clip, images):
    model = build_model(tiny_clip, FUSION_LAYERS=(0,))
    assert list(model.learnable.text_fusion.keys()) == ["0"]
    logits, terms = model.training_loss(images, LABELS)
    loss = total_loss(terms)
    expected_logits, expected_loss = independent_outputs(
        model, tiny_clip, images, LABELS, sep_cfg(FUSION_LAYERS=(0,))
    )
    assert_close_in_norm(loss, expected_loss, fp32_rtol(*clip_size(tiny_clip)))


def test_default_model_has_the_sizes_and_initialisation_of_sep_md(tiny_clip):
    torch.manual_seed(0)
    model = sep_model(tiny_clip, CLASSNAMES, "Caltech101", sep_cfg())
    text_width, vision_width = 64, 128  # tools/make_tiny_clip.py
    learnable = model.learnable
    assert learnable.prompt_learner.ctx.shape == (6, text_width)
    assert learnable.visual_prompts.tokens.shape == (4, vision_width)
    for tokens in (learnable.prompt_learner.ctx, learnable.visual_prompts.tokens):
        assert abs(tokens.std().item() - 0.02) < 0.004  # N(0, 0.02)
    tfms = [*learnable.text_fusion.values(), *learnable.visual_prompts.fusion_modules.values()]
    for tfm in tfms:
        assert tfm.mlp.c_fc.weight.shape[0] == 256
        assert tfm.scale_1.item() == tfm.scale_2.item() == 0.75
    assert learnable.prototype.weight.shape == (len(CLASSNAMES), 32)


def test_default_fusion_layers_are_all_blocks_but_the_first(tiny_clip):
    model = build_model(tiny_clip)
    depth = len(tiny_clip.transformer.resblocks)
    assert model.text_encoder.fusion_layers == tuple(range(1, depth))
    assert model.prompted_image_encoder.fusion_layers == tuple(
        range(1, len(tiny_clip.visual.transformer.resblocks))
    )


def test_fused_features_are_unit_norm(tiny_clip, images):
    model = build_model(tiny_clip)
    _, image_features = model.image_features(images)
    text_features = model.text_features()
    torch.testing.assert_close(image_features.norm(dim=-1), torch.ones(len(images)))
    torch.testing.assert_close(text_features.norm(dim=-1), torch.ones(len(CLASSNAMES)))


@pytest.mark.numerical
def test_reference_attention_makes_an_image_depend_on_its_batch(tiny_clip, images):
    reference = build_model(tiny_clip)
    per_input = build_model(tiny_clip, ATTENTION_AXIS="per_input", SELECTION_MODE="sample")
    other_batch = images.clone()
    other_batch[1:] = torch.randn_like(other_batch[1:])
    with torch.no_grad():
        rtol = fp32_rtol(*clip_size(tiny_clip))
        assert_far_in_norm(reference(images)[0], reference(other_batch)[0], rtol)
        assert_close_in_norm(per_input(images)[0], per_input(other_batch)[0], rtol)


def test_loss_terms_vanish_where_their_definitions_say(tiny_clip, images):
    model = build_model(tiny_clip)
    _, terms = model.loss_terms(images, LABELS)
    assert all(value.item() > 0 for value in terms.values())
    frozen = model.frozen_image_features(images)
    # consistency terms are zero when the fused features equal the frozen ones
    model.image_features = lambda image: (frozen, frozen)
    model.compute_text_features = lambda: model.text_features_fixed
    _, terms = model.loss_terms(images, LABELS)
    assert terms["text_consistency"].abs().item() < 1e-6
    assert terms["visual_consistency"].abs().item() < 1e-6


def test_prototype_term_falls_as_prototypes_match_classes(tiny_clip, images):
    model = build_model(tiny_clip)
    frozen = model.frozen_image_features(images)
    model.set_prototypes(frozen, LABELS)
    _, near = model.loss_terms(images, LABELS)
    with torch.no_grad():
        model.learnable.prototype.weight.copy_(-model.learnable.prototype.weight)
    _, far = model.loss_terms(images, LABELS)
    assert near["prototype"] < far["prototype"]


def test_prototypes_are_normalised_class_means_of_frozen_features(tiny_clip, images):
    model = build_model(tiny_clip)
    frozen = model.frozen_image_features(images)
    model.set_prototypes(frozen, LABELS)
    for label in range(len(CLASSNAMES)):
        mean = frozen[LABELS == label].mean(0)
        torch.testing.assert_close(model.learnable.prototype.weight[label], mean / mean.norm())


def test_gradients_reach_exactly_the_trained_parameters(tiny_clip, images):
    model = build_model(tiny_clip)
    _, terms = model.training_loss(images, LABELS)
    loss = total_loss(terms)
    loss.backward()
    trained = {name for name, p in model.learnable.named_parameters()}
    assert trained  # context, text TFMs, visual tokens + TFMs, prototypes
    assert {name.split(".")[0] for name in trained} == {
        "prompt_learner",
        "text_fusion",
        "visual_prompts",
        "prototype",
    }
    for name, param in model.learnable.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    for name, param in tiny_clip.named_parameters():
        assert param.grad is None, name


def test_checkpointed_state_holds_only_learned_tensors(tiny_clip):
    model = build_model(tiny_clip)
    state = model.learnable.state_dict()
    assert not any(key.startswith(("transformer.", "visual.", "token_embedding.")) for key in state)
    assert not any("token_prefix" in key or "token_suffix" in key for key in state)
    n_text_tfm = len(model.text_encoder.fusion_layers)
    assert sum(key.endswith("attn.in_proj_weight") for key in state) == n_text_tfm + len(
        model.prompted_image_encoder.fusion_layers
    )


def test_frozen_text_features_come_from_the_hand_crafted_template(tiny_clip):
    model = sep_model(tiny_clip, CLASSNAMES, "EuroSAT", sep_cfg())
    from clip import clip

    tokens = clip.tokenize([f"a centered satellite photo of {name}." for name in CLASSNAMES])
    with torch.no_grad():
        expected = tiny_clip.encode_text(tokens)
    torch.testing.assert_close(
        model.text_features_fixed, expected / expected.norm(dim=-1, keepdim=True)
    )


def test_logit_scale_is_frozen(tiny_clip, images):
    model = build_model(tiny_clip)
    _, terms = model.training_loss(images, LABELS)
    loss = total_loss(terms)
    loss.backward()
    assert model.logit_scale.grad is None


def test_autocast_runs_clip_and_the_fusion_modules_in_bf16_and_keeps_the_loss(tiny_clip, images):
    model = build_model(tiny_clip)
    logits32, terms32 = model.training_loss(images, LABELS)
    watched = {
        "text block": tiny_clip.transformer.resblocks[1].mlp.c_fc,
        "vision block": tiny_clip.visual.transformer.resblocks[1].mlp.c_fc,
        "text TFM": model.learnable.text_fusion["1"].mlp.c_fc,
        "vision TFM": model.learnable.visual_prompts.fusion_modules["1"].attn,
    }
    dtypes, handles = record_output_dtypes(watched)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits, terms = model.training_loss(images, LABELS)
    finally:
        for handle in handles:
            handle.remove()
    assert dtypes == {name: {torch.bfloat16} for name in watched}
    assert logits.dtype == torch.bfloat16
    assert all(term.dtype == torch.float32 for term in terms.values())
    # Every term is kept (the reference's amp path drops one), each within what the bf16 error
    # of the features it is computed from allows.
    assert set(terms) == set(terms32)
    rtol = bf16_autocast_error(prompted_clip_size(tiny_clip)[0])
    assert_close_in_norm(logits.float(), logits32, rtol, "amp logits")
    # CE of the logits just compared, in fp32 (a log-sum-exp of C classes: 2C roundings a row).
    largest_logit_change = (logits.float() - logits32).abs().max().item()
    ce_float_error = fp32_sum_rtol(len(LABELS), 2 * len(CLASSNAMES)) * terms32["ce"].item()
    ce_atol = cross_entropy_atol(largest_logit_change) + ce_float_error
    assert abs(terms["ce"].item() - terms32["ce"].item()) <= ce_atol
    for name in ("text_consistency", "visual_consistency"):
        weight = model.loss_weights[name]
        assert abs(terms[name].item() - terms32[name].item()) <= cosine_term_atol(weight, rtol)
    # Prototype term: W * (CE(s cos(f, P)) + CE(s cos(f0, P))), P fp32 and exact, f and f0
    # within rtol and one bf16 product more: each cosine logit moves by at most s * that.
    proto_logit_atol = model.proto_scale * (rtol + BF16_UNIT_ROUNDOFF)
    proto_atol = model.loss_weights["prototype"] * 2 * cross_entropy_atol(proto_logit_atol)
    assert abs(terms["prototype"].item() - terms32["prototype"].item()) <= proto_atol


def test_checkpoint_of_base_classes_loads_into_a_model_of_other_classes(tiny_clip, tmp_path):
    from run.checkpoints import load_learned_state

    base = build_model(tiny_clip)
    path = tmp_path / "model.pth.tar-1"
    torch.save({"state_dict": base.learnable.state_dict(), "epoch": 1}, path)
    torch.manual_seed(5)
    new = sep_model(
        tiny_clip, ["purple stripes", "orange ring", "grey dot"], "Caltech101", sep_cfg()
    )
    prototypes_before = new.learnable.prototype.weight.clone()
    assert load_learned_state(new.learnable, str(path), new.class_bound_keys) == 1
    new_state, base_state = new.learnable.state_dict(), base.learnable.state_dict()
    for key, value in base_state.items():
        if key != "prototype.weight":
            torch.testing.assert_close(new_state[key], value)
    # the training-only prototype head of the base classes is not loaded
    torch.testing.assert_close(new.learnable.prototype.weight, prototypes_before)
    assert new(torch.randn(2, 3, 32, 32)).shape == (2, 3)


def test_reference_template_table_is_available_for_exact_reproduction(tiny_clip):
    from clip import clip

    model = sep_model(tiny_clip, CLASSNAMES, "FGVCAircraft", sep_cfg(TEMPLATES="sep_reference"))
    tokens = clip.tokenize([f"a photo of an aircraft {name}." for name in CLASSNAMES])
    with torch.no_grad():
        expected = tiny_clip.encode_text(tokens)
    torch.testing.assert_close(
        model.text_features_fixed, expected / expected.norm(dim=-1, keepdim=True)
    )
