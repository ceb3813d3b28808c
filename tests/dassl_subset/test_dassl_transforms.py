import pytest
import torch
from dassl.data.transforms import build_transform
from PIL import Image
from torchvision.transforms import CenterCrop, Normalize, RandomResizedCrop, Resize
from torchvision.transforms.functional import InterpolationMode

from tests.tolerances import FP32_UNIT_ROUNDOFF


@pytest.fixture
def image():
    return Image.new("RGB", (40, 30), (255, 128, 0))


def test_coop_train_pipeline_crops_flips_and_normalizes_to_input_size(cpu_cfg, image):
    cpu_cfg.INPUT.SIZE = (16, 16)
    cpu_cfg.INPUT.INTERPOLATION = "bicubic"
    cpu_cfg.INPUT.TRANSFORMS = ("random_resized_crop", "random_flip", "normalize")
    transform = build_transform(cpu_cfg, is_train=True)
    steps = [type(step).__name__ for step in transform.transforms]
    assert steps == ["RandomResizedCrop", "RandomHorizontalFlip", "ToTensor", "Normalize"]
    crop = transform.transforms[0]
    assert isinstance(crop, RandomResizedCrop) and crop.scale == (0.08, 1.0)
    assert crop.interpolation == InterpolationMode.BICUBIC
    assert transform(image).shape == (3, 16, 16)


def test_train_pipeline_resizes_when_no_crop_is_named(cpu_cfg, image):
    cpu_cfg.INPUT.SIZE = (12, 10)
    transform = build_transform(cpu_cfg, is_train=True, choices=["random_flip"])
    assert isinstance(transform.transforms[0], Resize)
    assert transform(image).shape == (3, 12, 10)


def test_random_crop_pads_by_crop_padding(cpu_cfg, image):
    cpu_cfg.INPUT.SIZE = (8, 8)
    cpu_cfg.INPUT.CROP_PADDING = 2
    transform = build_transform(cpu_cfg, is_train=True, choices=["random_crop"])
    assert transform.transforms[0].padding == 2
    assert transform(image).shape == (3, 8, 8)


@pytest.mark.numerical
def test_test_pipeline_resizes_short_edge_then_center_crops(cpu_cfg, image):
    cpu_cfg.INPUT.SIZE = (16, 16)
    cpu_cfg.INPUT.TRANSFORMS = ("random_resized_crop", "random_flip", "normalize")
    transform = build_transform(cpu_cfg, is_train=False)
    resize, crop, _, normalize = transform.transforms
    assert isinstance(resize, Resize) and resize.size == 16
    assert isinstance(crop, CenterCrop) and isinstance(normalize, Normalize)
    output = transform(image)
    assert output.shape == (3, 16, 16)
    expected_red = (1.0 - 0.485) / 0.229
    # fp32 (x - mean) / std of x = 1 (255 resized stays 255): four roundings (mean, std, the
    # subtraction, the division), one more for the expected value in fp32
    rtol = 5 * FP32_UNIT_ROUNDOFF
    assert torch.allclose(output[0], torch.full((16, 16), expected_red), rtol=rtol, atol=0)


def test_no_transform_returns_none(cpu_cfg):
    cpu_cfg.INPUT.NO_TRANSFORM = True
    assert build_transform(cpu_cfg, is_train=True) is None


def test_unknown_transform_or_interpolation_is_rejected_with_the_supported_list(cpu_cfg):
    with pytest.raises(ValueError, match="random_resized_crop"):
        build_transform(cpu_cfg, choices=["randaugment"])
    cpu_cfg.INPUT.INTERPOLATION = "lanczos"
    with pytest.raises(ValueError, match="bicubic"):
        build_transform(cpu_cfg)
