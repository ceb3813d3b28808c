"""Image transform pipelines named by INPUT.TRANSFORMS (the subset CoOp-family configs use)."""

from torchvision.transforms import (
    CenterCrop,
    ColorJitter,
    Compose,
    GaussianBlur,
    Normalize,
    RandomApply,
    RandomCrop,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomResizedCrop,
    Resize,
    ToTensor,
)
from torchvision.transforms.functional import InterpolationMode

AVAI_CHOICES = [
    "random_flip",
    "random_resized_crop",
    "random_crop",
    "center_crop",  # the test pipeline always centre-crops; accepted for config compatibility
    "normalize",
    "colorjitter",
    "randomgrayscale",
    "gaussian_blur",
]

INTERPOLATION_MODES = {
    "bilinear": InterpolationMode.BILINEAR,
    "bicubic": InterpolationMode.BICUBIC,
    "nearest": InterpolationMode.NEAREST,
}


def build_transform(cfg, is_train=True, choices=None):
    """Compose the train or test pipeline; ``choices`` overrides INPUT.TRANSFORMS.

    Returns None when INPUT.NO_TRANSFORM is set.
    """
    if cfg.INPUT.NO_TRANSFORM:
        print("Note: no transform is applied!")
        return None
    choices = cfg.INPUT.TRANSFORMS if choices is None else choices
    unknown = [choice for choice in choices if choice not in AVAI_CHOICES]
    if unknown:
        raise ValueError(
            f"Unknown INPUT.TRANSFORMS {unknown}; the built-in Dassl subset supports {AVAI_CHOICES}"
        )
    if cfg.INPUT.INTERPOLATION not in INTERPOLATION_MODES:
        raise ValueError(
            f"INPUT.INTERPOLATION must be one of {list(INTERPOLATION_MODES)}, "
            f"got {cfg.INPUT.INTERPOLATION}"
        )
    build = _train_pipeline if is_train else _test_pipeline
    return Compose(build(cfg, choices))


def _normalize_step(cfg, choices):
    if "normalize" not in choices:
        return []
    print(f"+ normalization (mean={cfg.INPUT.PIXEL_MEAN}, std={cfg.INPUT.PIXEL_STD})")
    return [Normalize(mean=cfg.INPUT.PIXEL_MEAN, std=cfg.INPUT.PIXEL_STD)]


def _train_pipeline(cfg, choices):
    print("Building transform_train")
    size = tuple(cfg.INPUT.SIZE)
    interpolation = INTERPOLATION_MODES[cfg.INPUT.INTERPOLATION]
    steps = []
    if "random_crop" not in choices and "random_resized_crop" not in choices:
        # without a cropping step nothing else brings the image to the input size
        print(f"+ resize to {size[0]}x{size[1]}")
        steps.append(Resize(size, interpolation=interpolation))
    if "random_crop" in choices:
        print(f"+ random crop (padding = {cfg.INPUT.CROP_PADDING})")
        steps.append(RandomCrop(size, padding=cfg.INPUT.CROP_PADDING))
    if "random_resized_crop" in choices:
        scale = tuple(cfg.INPUT.RRCROP_SCALE)
        print(f"+ random resized crop (size={size}, scale={scale})")
        steps.append(RandomResizedCrop(size, scale=scale, interpolation=interpolation))
    if "random_flip" in choices:
        print("+ random flip")
        steps.append(RandomHorizontalFlip())
    if "colorjitter" in choices:
        print("+ color jitter")
        steps.append(
            ColorJitter(
                brightness=cfg.INPUT.COLORJITTER_B,
                contrast=cfg.INPUT.COLORJITTER_C,
                saturation=cfg.INPUT.COLORJITTER_S,
                hue=cfg.INPUT.COLORJITTER_H,
            )
        )
    if "randomgrayscale" in choices:
        print("+ random gray scale")
        steps.append(RandomGrayscale(p=cfg.INPUT.RGS_P))
    if "gaussian_blur" in choices:
        print(f"+ gaussian blur (kernel={cfg.INPUT.GB_K})")
        steps.append(RandomApply([GaussianBlur(cfg.INPUT.GB_K)], p=cfg.INPUT.GB_P))
    print("+ to torch tensor of range [0, 1]")
    steps.append(ToTensor())
    return steps + _normalize_step(cfg, choices)


def _test_pipeline(cfg, choices):
    print("Building transform_test")
    size = tuple(cfg.INPUT.SIZE)
    print(f"+ resize the smaller edge to {max(size)}")
    print(f"+ {size[0]}x{size[1]} center crop")
    print("+ to torch tensor of range [0, 1]")
    steps = [
        Resize(max(size), interpolation=INTERPOLATION_MODES[cfg.INPUT.INTERPOLATION]),
        CenterCrop(size),
        ToTensor(),
    ]
    return steps + _normalize_step(cfg, choices)
