import pytest
import torch

from prompting.clip_loading import load_clip_to_cpu
from tests.tolerances import (
    assert_close_in_norm,
    assert_far_in_norm,
    clip_size,
    fp32_rtol,
    text_encoder_size,
    unit_norm_atol,
)
from tests.trainers.helpers import (
    check_amp_matches_fp32,
    check_base_model_evaluates_on_new_classes,
    fixed_batch,
    make_trainer,
    optimised_parameters,
    trained_parameter_names,
)
from trainers.cocoop import META_NET_REDUCTION

META_NET_KEYS = {
    "meta_net.linear1.weight",
    "meta_net.linear1.bias",
    "meta_net.linear2.weight",
    "meta_net.linear2.bias",
}


@pytest.mark.numerical
def test_cocoop_gives_each_image_its_own_class_text_features(toy, tmp_path):
    trainer = make_trainer("CoCoOp", toy, tmp_path)
    model = trainer.model
    image, _ = fixed_batch(trainer)
    n_images, n_cls = image.shape[0], trainer.dm.num_classes
    embed_dim = model.text_encoder.text_projection.shape[1]
    with torch.no_grad():
        # The tiny CLIP's meta-net has 2 hidden units; keep them out of ReLU's flat part.
        model.learnable.meta_net.linear1.bias.fill_(1.0)
        text_features = model.text_features_for_images(model.image_features(image))
        logits = model(image)
    assert text_features.shape == (n_images, n_cls, embed_dim)
    norm_atol = unit_norm_atol(embed_dim)
    assert torch.allclose(text_features.norm(dim=-1), torch.ones(n_images, n_cls), 0, norm_atol)
    rtol = fp32_rtol(*text_encoder_size(model.text_encoder))  # above the text path's rounding
    assert_far_in_norm(text_features[0], text_features[1], rtol)
    assert logits.shape == (n_images, n_cls)
    assert model.text_depends_on_image


@pytest.mark.numerical
def test_cocoop_meta_net_maps_the_normalised_image_feature_to_a_context_shift(toy, tmp_path):
    trainer = make_trainer("CoCoOp", toy, tmp_path)
    learner = trainer.model.learnable
    image_dim = trainer.model.image_encoder.output_dim
    ctx_dim = learner.ctx.shape[-1]
    assert learner.meta_net.linear1.in_features == image_dim
    assert learner.meta_net.linear1.out_features == image_dim // META_NET_REDUCTION
    assert learner.meta_net.linear2.out_features == ctx_dim
    assert isinstance(learner.meta_net.relu, torch.nn.ReLU)

    inputs = []
    learner.meta_net.register_forward_hook(lambda module, args, out: inputs.append(args[0]))
    image, _ = fixed_batch(trainer)
    with torch.no_grad():
        trainer.model(image)
    norm_atol = unit_norm_atol(image_dim)
    assert torch.allclose(inputs[0].norm(dim=-1), torch.ones(image.shape[0]), 0, norm_atol)


@pytest.mark.numerical
def test_cocoop_without_a_shift_is_zero_shot_clip_with_the_init_phrase(toy, tmp_path):
    # ctxv1 context "a photo of a" and a meta-net that outputs 0: every image gets the prompts
    # "a photo of a <class>." -- Caltech101's hand-crafted template, so zero-shot CLIP's logits.
    cocoop = make_trainer("CoCoOp", toy, tmp_path / "cocoop")
    with torch.no_grad():
        cocoop.model.learnable.meta_net.linear2.weight.zero_()
        cocoop.model.learnable.meta_net.linear2.bias.zero_()
    zero_shot = make_trainer("ZeroshotCLIP", toy, tmp_path / "zsclip")
    image, _ = fixed_batch(cocoop)
    rtol = fp32_rtol(*clip_size(load_clip_to_cpu(toy.tiny_clip_path)))  # two fp32 CLIP passes
    with torch.no_grad():
        assert_close_in_norm(cocoop.model(image), zero_shot.model(image), rtol)


def test_cocoop_trains_the_context_and_the_meta_net(toy, tmp_path):
    trainer = make_trainer("CoCoOp", toy, tmp_path)
    learner = trainer.model.learnable
    assert trained_parameter_names(trainer) == {"learnable.ctx"} | {
        f"learnable.{key}" for key in META_NET_KEYS
    }
    assert optimised_parameters(trainer) == {id(p) for p in learner.parameters()}
    assert set(trainer._models["prompt_learner"].state_dict()) == {"ctx"} | META_NET_KEYS
    n_ctx, ctx_dim = learner.ctx.shape
    image_dim = trainer.model.image_encoder.output_dim
    hidden = image_dim // META_NET_REDUCTION
    expected = n_ctx * ctx_dim + (image_dim * hidden + hidden) + (hidden * ctx_dim + ctx_dim)
    assert sum(p.numel() for p in learner.parameters()) == expected


def test_cocoop_base_checkpoint_evaluates_on_new_classes(toy, tmp_path):
    check_base_model_evaluates_on_new_classes("CoCoOp", toy, tmp_path, {"ctx"} | META_NET_KEYS)


def test_cocoop_amp_on_cpu_matches_fp32(toy, tmp_path):
    check_amp_matches_fp32("CoCoOp", toy, tmp_path)
