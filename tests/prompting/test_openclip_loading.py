"""MODEL.BACKBONE.NAME "openclip:...": the forms accepted, the ones refused before any load, and
the state dict files that cannot say their activation."""

import json
import math
import os
import re

import pytest
import torch
from open_clip.factory import add_model_config, get_model_config
from open_clip.model import convert_weights_to_lp

from prompting.backbones import UnsupportedBackbone, backbone_of
from prompting.clip_loading import (
    CLIPWeightsUnavailable,
    check_backbone_name,
    clip_state_file,
    load_clip_to_cpu,
)
from prompting.openclip_loading import (
    OpenCLIPNameError,
    openclip_preprocessing,
    parse_openclip_name,
    unsupported_tower,
)
from run.config import project_cfg_default
from tools.make_tiny_clip import TINY_VIT, build_tiny_clip
from tools.make_tiny_openclip import (
    OPENAI_PIXEL_MEAN,
    build_tiny_openclip,
    tiny_openclip_config,
    write_tiny_openclip,
)
from trainers.prompt_trainer import InputSizeMismatch, check_input_size

TINY_ARCH = "TinyViT-openclip-loading-test"  # registered with OpenCLIP by the fixture below
# A loaded model's fp16 weights, run in fp32, against a reference holding the same fp16-rounded
# weights: only fp32 rounding differs, about sqrt(width) eps per product over the 4 blocks.
RTOL = 8 * math.sqrt(TINY_VIT["vision_width"]) * 4 * torch.finfo(torch.float32).eps


@pytest.fixture(scope="module")
def tiny_arch(tmp_path_factory):
    """A built-in OpenCLIP architecture of the tiny CLIP's shapes (GELU)."""
    path = tmp_path_factory.mktemp("configs") / f"{TINY_ARCH}.json"
    path.write_text(json.dumps(tiny_openclip_config(quick_gelu=False)))
    add_model_config(str(path))
    return TINY_ARCH


def fp16_rounded(model):
    """``model`` with the weights ``load_clip_to_cpu`` keeps in fp16 rounded so, in fp32."""
    convert_weights_to_lp(model, dtype=torch.float16)
    return model.float()


def assert_same_features(got, expected):
    error = float((got - expected).norm() / expected.norm())
    assert error <= RTOL, f"relative error {error:.2e} > {RTOL:.2e}"


def image_batch():
    resolution = TINY_VIT["image_resolution"]
    return torch.randn(2, 3, resolution, resolution, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    "name, parsed",
    [
        ("openclip:ViT-B-16/laion2b_s34b_b88k", ("ViT-B-16", "laion2b_s34b_b88k")),
        ("openclip:ViT-L-14@/data/open_clip_model.bin", ("ViT-L-14", "/data/open_clip_model.bin")),
        ("openclip:hf-hub:laion/CLIP-ViT-B-16", ("hf-hub:laion/CLIP-ViT-B-16", None)),
        ("openclip:local-dir:/models/b16", ("local-dir:/models/b16", None)),
    ],
)
def test_each_form_names_what_open_clip_create_model_takes(name, parsed):
    assert parse_openclip_name(name) == parsed


@pytest.mark.parametrize(
    "name, error, fragment",
    [
        ("openclip:ViT-B-16", OpenCLIPNameError, "names no weights (it would run a random model)"),
        ("openclip:ViT-Q-99/x", OpenCLIPNameError, '"ViT-Q-99" is not an OpenCLIP architecture'),
        ("openclip:ViT-B-16/laion9b", OpenCLIPNameError, "not a pretrained tag of ViT-B-16"),
        ("openclip:ViT-B-16/openai", OpenCLIPNameError, '"openclip:ViT-B-16-quickgelu/openai"'),
        ("openclip:ViT-B-16@/no/such/file.bin", OpenCLIPNameError, "no file /no/such/file.bin"),
        ("openclip:local-dir:/", OpenCLIPNameError, "holds no open_clip_config.json"),
        ("openclip:RN50/openai", UnsupportedBackbone, "has a ResNet image tower"),
        ("openclip:ViT-B-16-SigLIP/webli", UnsupportedBackbone, "has a timm image tower"),
        ("openclip:convnext_base/laion400m_s13b_b51k", UnsupportedBackbone, "timm image tower"),
        ("openclip:EVA02-B-16/merged2b_s8b_b131k", UnsupportedBackbone, "timm image tower"),
        ("openclip:ViT-L-14-CLIPA/datacomp1b", UnsupportedBackbone, "image tower pooled by avg"),
        ("openclip:ViT-H-14-worldwide/metaclip2_worldwide", UnsupportedBackbone, "eos token"),
        ("openclip:coca_ViT-B-32/laion2b_s13b_b90k", UnsupportedBackbone, "a CoCa text decoder"),
        (
            "openclip:xlm-roberta-base-ViT-B-32/laion5b_s13b_b90k",
            UnsupportedBackbone,
            "Hugging Face text tower",
        ),
    ],
)
def test_a_name_that_cannot_give_a_supported_model_is_refused_before_loading(name, error, fragment):
    with pytest.raises(error) as refused:
        check_backbone_name(name)
    message = str(refused.value)
    assert fragment in message and "\n" not in message
    if error is UnsupportedBackbone:
        assert "OpenCLIP models whose image tower is OpenCLIP's own VisionTransformer" in message


def test_a_model_folder_loads_in_fp16_with_its_tokenizer_and_features(tmp_path):
    folder = write_tiny_openclip(str(tmp_path / "tiny"), seed=4)
    reference = fp16_rounded(build_tiny_openclip(seed=4))
    loaded = load_clip_to_cpu(f"openclip:local-dir:{folder}")
    assert loaded.visual.conv1.weight.dtype == torch.float16
    assert not loaded.training
    assert backbone_of(loaded).tokenize(["a cat."]).shape == (1, TINY_VIT["context_length"])
    with torch.no_grad():
        expected = reference.encode_image(image_batch())
        got = loaded.float().encode_image(image_batch())
    assert_same_features(got, expected)
    assert openclip_preprocessing(loaded) == (
        TINY_VIT["image_resolution"],
        OPENAI_PIXEL_MEAN,
        pytest.approx((0.26862954, 0.26130258, 0.27577711)),
    )


def test_a_model_folder_of_an_unsupported_config_is_refused_before_loading(tmp_path):
    folder = write_tiny_openclip(str(tmp_path / "tiny"))
    config_path = tmp_path / "tiny" / "open_clip_config.json"
    config = json.loads(config_path.read_text())
    config["model_cfg"]["vision_cfg"]["pool_type"] = "avg"
    config_path.write_text(json.dumps(config))
    with pytest.raises(UnsupportedBackbone, match="has an image tower pooled by avg"):
        check_backbone_name(f"openclip:local-dir:{folder}")


def test_a_model_folder_without_weights_is_refused(tmp_path):
    folder = write_tiny_openclip(str(tmp_path / "tiny"))
    (tmp_path / "tiny" / "open_clip_pytorch_model.bin").unlink()
    with pytest.raises(Exception, match="Could not load OpenCLIP") as refused:
        load_clip_to_cpu(f"openclip:local-dir:{folder}")
    assert "local-dir" in str(refused.value)


def test_arch_at_file_runs_the_activation_its_config_states(tmp_path, tiny_arch):
    """GELU weights as a file: loaded through OpenCLIP with the GELU architecture, they give
    OpenCLIP's features; OpenAI's QuickGELU code would have given other features."""
    gelu_model = fp16_rounded(build_tiny_openclip(seed=5, quick_gelu=False))
    path = tmp_path / "open_clip_pytorch_model.bin"
    torch.save(gelu_model.state_dict(), path)
    loaded = load_clip_to_cpu(f"openclip:{tiny_arch}@{path}").float()
    quick = build_tiny_clip(seed=0)
    quick.load_state_dict(gelu_model.state_dict())
    with torch.no_grad():
        expected = gelu_model.encode_image(image_batch())
        got = loaded.encode_image(image_batch())
        as_quick_gelu = quick.encode_image(image_batch())
    assert_same_features(got, expected)
    assert float((as_quick_gelu - expected).norm() / expected.norm()) > 100 * RTOL


def test_a_state_dict_file_without_its_activation_is_refused_naming_its_openclip_form(
    tmp_path, tiny_arch
):
    path = tmp_path / "weights.pt"
    torch.save(build_tiny_openclip(seed=0).state_dict(), path)
    with pytest.raises(CLIPWeightsUnavailable) as refused:
        load_clip_to_cpu(str(path))
    message = str(refused.value)
    assert "does not record its activation" in message
    assert f'"openclip:{tiny_arch}@{path}"' in message  # the architecture of its shapes
    assert f'"openclip:{tiny_arch}-quickgelu@{path}"' in message


def test_a_state_dict_of_shapes_no_architecture_has_is_refused_naming_an_example(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(build_tiny_openclip(seed=0, vision_layers=3).state_dict(), path)
    with pytest.raises(CLIPWeightsUnavailable, match=f'"openclip:ViT-B-16@{path}"'):
        load_clip_to_cpu(str(path))


def test_a_state_dict_file_stating_gelu_is_refused(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"state_dict": build_tiny_clip().state_dict(), "activation": "gelu"}, path)
    with pytest.raises(CLIPWeightsUnavailable, match="records activation 'gelu'"):
        load_clip_to_cpu(str(path))


def test_a_clip_state_file_loads_as_the_quick_gelu_clip_it_holds(tmp_path):
    clip_model = build_tiny_clip(seed=6)
    path = tmp_path / "tiny.pt"
    torch.save(clip_state_file(clip_model), path)
    loaded = load_clip_to_cpu(str(path))
    assert torch.equal(loaded.visual.conv1.weight, clip_model.visual.conv1.weight.half())


def input_cfg(size, mean):
    cfg = project_cfg_default()
    cfg.INPUT.SIZE = size
    cfg.INPUT.PIXEL_MEAN = list(mean)
    cfg.INPUT.PIXEL_STD = [0.26862954, 0.26130258, 0.27577711]
    cfg.INPUT.TRANSFORMS = ["random_resized_crop", "normalize"]
    return cfg


def test_input_size_and_pixel_statistics_are_checked_against_the_openclip_model():
    model = build_tiny_openclip(seed=0)
    preprocess = {"size": model.visual.image_size, "mean": OPENAI_PIXEL_MEAN}
    model.visual.preprocess_cfg = dict(preprocess, std=(0.26862954,) * 3)
    resolution = TINY_VIT["image_resolution"]
    with pytest.raises(InputSizeMismatch, match=f'set INPUT.SIZE "\\({resolution}, {resolution}'):
        check_input_size(input_cfg((224, 224), OPENAI_PIXEL_MEAN), model)
    with pytest.raises(InputSizeMismatch, match="INPUT.PIXEL_MEAN \\[0.485"):
        check_input_size(input_cfg((resolution, resolution), (0.485, 0.456, 0.406)), model)
    with pytest.raises(InputSizeMismatch, match='set INPUT.PIXEL_STD "\\[0.26862954, 0.26862954'):
        check_input_size(input_cfg((resolution, resolution), OPENAI_PIXEL_MEAN), model)
    model.visual.preprocess_cfg = dict(preprocess, std=(0.26862954, 0.26130258, 0.27577711))
    check_input_size(input_cfg((resolution, resolution), OPENAI_PIXEL_MEAN), model)


def readme_backbones_section():
    readme = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
    with open(readme) as file:
        return file.read().split("\n## Backbones\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_names_load_as_it_says():
    section = readme_backbones_section()
    table_names = re.findall(r"^\| `([^`]+)` \|", section, re.MULTILINE)
    openclip_names = [name for name in table_names if name.startswith("openclip:")]
    assert len(openclip_names) >= 5
    for name in openclip_names:
        parse_openclip_name(name)
        if "/path" not in name:  # tags and hub names: accepted without loading anything
            check_backbone_name(name)
    for refused in ("openclip:ViT-B-16", "openclip:ViT-B-16/openai"):
        assert f"`{refused}`" in section
        with pytest.raises(OpenCLIPNameError):
            check_backbone_name(refused)
    for arch in ("ViT-B-32", "ViT-B-16", "ViT-L-14", "ViT-H-14", "ViT-g-14", "ViT-bigG-14"):
        config = get_model_config(arch)
        assert unsupported_tower(config["vision_cfg"], config["text_cfg"], config) is None
