"""SEP options that do not fit the loaded CLIP are refused with one clear message."""

import os

import torch
from clip.model import CLIP

from prompting.clip_loading import clip_state_file
from tests.reliability.train_args import toy_argv


def test_fusion_layer_beyond_the_encoder_depth_is_a_short_error(toy, tmp_path, run_train):
    result = run_train(
        toy_argv(toy, tmp_path, "TRAINER.SEP.FUSION_LAYERS", "(1, 5)", trainer="SEP")
    )
    error = result.err
    assert result.status == 2
    assert "TRAINER.SEP.FUSION_LAYERS" in error and "[5]" in error and "Traceback" not in error


def test_unknown_selection_mode_is_a_short_error(toy, tmp_path, run_train):
    result = run_train(
        toy_argv(toy, tmp_path, "TRAINER.SEP.SELECTION_MODE", "image", trainer="SEP")
    )
    error = result.err
    assert result.status == 2
    assert "TRAINER.SEP.SELECTION_MODE" in error and "'batch', 'sample'" in error


def test_resnet_backbone_is_refused_by_sep(toy, tmp_path, run_train):
    resnet = CLIP(
        embed_dim=32,
        image_resolution=32,
        vision_layers=(1, 1, 1, 1),
        vision_width=64,
        vision_patch_size=None,
        context_length=77,
        vocab_size=49408,
        transformer_width=64,
        transformer_heads=1,
        transformer_layers=1,
    )
    path = os.path.join(tmp_path, "tiny_resnet_clip.pt")
    torch.save(clip_state_file(resnet), path)
    result = run_train(toy_argv(toy, tmp_path / "out", "MODEL.BACKBONE.NAME", path, trainer="SEP"))
    error = result.err
    assert result.status == 2
    assert "SEP needs a ViT CLIP backbone" in error


def test_resnet_by_name_is_refused_before_clip_is_loaded(toy, tmp_path, run_train, monkeypatch):
    import trainers.prompt_trainer

    def no_loading(*args):
        raise AssertionError("CLIP must not be loaded")

    monkeypatch.setattr(trainers.prompt_trainer, "load_clip_to_cpu", no_loading)
    result = run_train(toy_argv(toy, tmp_path, "MODEL.BACKBONE.NAME", "RN50", trainer="SEP"))
    error = result.err
    assert result.status == 2
    assert 'needs a ViT CLIP backbone' in error and '"RN50" is a ResNet' in error


def test_unknown_template_table_is_a_short_error(toy, tmp_path, run_train):
    result = run_train(toy_argv(toy, tmp_path, "TRAINER.SEP.TEMPLATES", "clip", trainer="SEP"))
    error = result.err
    assert result.status == 2
    assert "TRAINER.SEP.TEMPLATES" in error and "sep_reference" in error
