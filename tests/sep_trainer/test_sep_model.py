"""SEPModel against an independent statement of docs/methods/sep.md, and the method's invariants."""

import pytest
import torch

from prompting.prompted_clip import total_loss
from run.config import project_cfg_default
from tests.sep_trainer import independent_sep as ref
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


def independent_outputs(model, clip_model, images, labels, cfg):
    learner = model.prompt_learner
    text_tfms = {int(k): v for k, v in model.learnable.text_fusion.items()}
    visual = model.learnable.visual_prompts
    visual_tfms = {int(k): v for k, v in visual.fusion_modules.items()}
    weights = dict(text=cfg.W_TEXT, visual=cfg.W_VISUAL, proto=cfg.W_PROTO, scale=cfg.PROTO_SCALE)
    return ref.sep_logits_and_loss(
        clip_model,
        images,
        labels,
        (learner(), learner.tokenized_prompts, learner.n_ctx, text_tfms, cfg.ATTENTION_AXIS),
        (visual.tokens, visual_tfms, cfg.SELECTION_MODE, cfg.ATTENTION_AXIS),
        model.learnable.prototype.weight,
        model.text_features_fixed,
        weights,
    )


@pytest.fixture
def images():
    torch.manual_seed(1)
    return torch.randn(5, 3, 32, 32)


LABELS = torch.tensor([0, 1, 2, 3, 1])


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
    torch.testing.assert_close(logits, expected_logits, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(loss, expected_loss, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(model(images), expected_logits, rtol=1e-4, atol=1e-4)


def test_custom_fusion_layers_match_independent_implementation(tiny_clip, images):
    model = build_model(tiny_clip, FUSION_LAYERS=(0,))
    assert list(model.learnable.text_fusion.keys()) == ["0"]
    logits, terms = model.training_loss(images, LABELS)
    loss = total_loss(terms)
    expected_logits, expected_loss = independent_outputs(
        model, tiny_clip, images, LABELS, sep_cfg(FUSION_LAYERS=(0,))
    )
    torch.testing.assert_close(loss, expected_loss, rtol=1e-4, atol=1e-4)


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


def test_reference_attention_makes_an_image_depend_on_its_batch(tiny_clip, images):
    reference = build_model(tiny_clip)
    per_input = build_model(tiny_clip, ATTENTION_AXIS="per_input", SELECTION_MODE="sample")
    other_batch = images.clone()
    other_batch[1:] = torch.randn_like(other_batch[1:])
    with torch.no_grad():
        assert not torch.allclose(reference(images)[0], reference(other_batch)[0], atol=1e-5)
        torch.testing.assert_close(
            per_input(images)[0], per_input(other_batch)[0], rtol=1e-5, atol=1e-5
        )


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


@pytest.mark.parametrize("precision", ["amp"])
def test_autocast_loss_matches_fp32(tiny_clip, images, precision):
    model = build_model(tiny_clip)
    _, terms = model.training_loss(images, LABELS)
    loss32 = total_loss(terms)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, terms = model.training_loss(images, LABELS)
        loss_amp = total_loss(terms)
    assert loss_amp.dtype == torch.float32
    assert abs(loss_amp.item() - loss32.item()) < 0.05 * abs(loss32.item())


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
