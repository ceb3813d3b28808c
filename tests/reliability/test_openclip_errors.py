"""OpenCLIP backbones through train.py: what cannot run ends in one ``Error:`` line that names the
fix, before anything is built where the name alone tells."""

import os

import open_clip.factory
import torch

from tests.reliability.train_args import toy_argv
from tools.make_tiny_openclip import build_tiny_openclip


def assert_one_error_line(result, *fragments):
    assert result.status == 2, result.err[-2000:]
    errors = [line for line in result.err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.err[-2000:]
    for fragment in fragments:
        assert fragment in errors[0]
    assert "Traceback" not in result.err


def test_a_timm_tower_is_refused_before_anything_is_built(toy, tmp_path, run_train):
    output_dir = tmp_path / "run"
    name = "openclip:ViT-B-16-SigLIP/webli"
    result = run_train(toy_argv(toy, output_dir, "MODEL.BACKBONE.NAME", name))
    assert_one_error_line(result, "has a timm image tower", "OpenCLIP models whose image tower")
    assert not os.path.exists(output_dir)


def test_a_plain_state_dict_is_refused_naming_the_openclip_form(toy, tmp_path, run_train):
    path = tmp_path / "open_clip_pytorch_model.bin"
    torch.save(build_tiny_openclip(seed=0).state_dict(), path)
    result = run_train(toy_argv(toy, tmp_path / "run", "MODEL.BACKBONE.NAME", str(path)))
    assert_one_error_line(result, "does not record its activation", f"@{path}")


def test_a_tag_that_cannot_be_downloaded_says_how_to_load_offline(
    toy, tmp_path, run_train, monkeypatch
):
    requested = []

    def offline(config, *args, **kwargs):
        requested.append(config["hf_hub"])
        raise ConnectionError("network is unreachable")

    monkeypatch.setattr(open_clip.factory, "download_pretrained", offline)
    name = "openclip:ViT-B-16/laion2b_s34b_b88k"
    result = run_train(
        toy_argv(toy, tmp_path / "run", "MODEL.BACKBONE.NAME", name, "INPUT.SIZE", "(224, 224)")
    )
    assert requested == ["laion/CLIP-ViT-B-16-laion2B-s34B-b88K/"]
    assert_one_error_line(result, f'Could not load OpenCLIP "{name}"', "openclip:local-dir:")
