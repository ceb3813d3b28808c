"""Vectorised renderer: a batch of scenes in one call, deterministic from a torch.Generator.

Each image holds one object (a colour, a shape, a size) at a random position, scale and small
rotation on a background. The style sets the domain: ``photo`` is the pretraining distribution;
the others are the shifted domains of the downstream datasets.

    images = render(colours, shapes, sizes, generator, style="photo")   # [B, 3, S, S] in [0, 1]
"""

import math

import torch
import torch.nn.functional as F

from .vocabulary import COLOURS

STYLES = ("photo", "outline", "noise", "tint")
SUPERSAMPLE = 2  # drawn at twice the size, then averaged: smooth edges
MAX_ROTATION = math.radians(15)  # small enough that a square never turns into a diamond
RADIUS_RANGE = {0: (0.30, 0.40), 1: (0.52, 0.68)}  # small / large, in half image widths
WARM_LIGHT = (1.0, 0.78, 0.50)  # the "tint" style's colour cast


def uniform(generator, shape, low, high):
    return low + (high - low) * torch.rand(shape, generator=generator)


def shape_masks(u, v):
    """Boolean [len(SHAPES), B, H, W]: each shape in the object's own unit coordinates."""
    distance = torch.sqrt(u**2 + v**2)
    box = torch.maximum(u.abs(), v.abs())
    return torch.stack(
        [
            distance <= 1.0,  # circle
            box <= 0.8,  # square
            (v <= 0.7) & (u.abs() <= (v + 0.95) * 0.62),  # triangle, apex up
            (box <= 0.9) & (torch.minimum(u.abs(), v.abs()) <= 0.3),  # cross
            (distance <= 1.0) & (distance >= 0.55),  # ring
            u.abs() + v.abs() <= 1.0,  # diamond
        ]
    )


def object_masks(shapes, sizes, generator, side):
    """Float [B, side, side] in {0, 1}: every object at its own position, scale and rotation."""
    batch = len(shapes)
    radius = torch.empty(batch)
    for size, (low, high) in RADIUS_RANGE.items():
        chosen = sizes == size
        radius[chosen] = uniform(generator, (int(chosen.sum()),), low, high)
    margin = 1.0 - radius
    centre_x = uniform(generator, (batch,), -1.0, 1.0) * margin
    centre_y = uniform(generator, (batch,), -1.0, 1.0) * margin
    angle = uniform(generator, (batch,), -MAX_ROTATION, MAX_ROTATION)

    axis = (torch.arange(side) + 0.5) / side * 2.0 - 1.0  # pixel centres in [-1, 1]
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    dx = x[None] - centre_x[:, None, None]  # [B, H, W]
    dy = y[None] - centre_y[:, None, None]
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    u = (cos * dx + sin * dy) / radius[:, None, None]
    v = (-sin * dx + cos * dy) / radius[:, None, None]
    masks = shape_masks(u, v)  # [n_shapes, B, H, W]
    return masks[shapes, torch.arange(batch)].float()


def outline(mask, thickness):
    """The border of a [B, H, W] mask: the mask minus its erosion by ``thickness`` pixels."""
    eroded = -F.max_pool2d(-mask[:, None], 2 * thickness + 1, stride=1, padding=thickness)
    return (mask - eroded[:, 0]).clamp(min=0.0)


def photo_background(generator, batch, side):
    """[B, 3, H, W]: grey of random lightness, a faint tint, a linear gradient and grain."""
    level = uniform(generator, (batch, 1, 1, 1), 0.15, 0.60)
    tint = uniform(generator, (batch, 3, 1, 1), -0.05, 0.05)
    direction = uniform(generator, (batch,), 0.0, 2 * math.pi)
    axis = torch.linspace(-1.0, 1.0, side)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    ramp = torch.cos(direction)[:, None, None] * x + torch.sin(direction)[:, None, None] * y
    slope = uniform(generator, (batch, 1, 1), -0.12, 0.12)
    gradient = (slope * ramp)[:, None]  # [B, 1, H, W]
    grain = 0.03 * torch.randn((batch, 1, side, side), generator=generator)
    return level + tint + gradient + grain


def striped_background(generator, batch, side):
    """[B, 3, H, W]: stripes of two random greys at a random angle and period."""
    light = uniform(generator, (batch, 1, 1, 1), 0.45, 0.75)
    dark = light - uniform(generator, (batch, 1, 1, 1), 0.15, 0.30)
    direction = uniform(generator, (batch,), 0.0, math.pi)
    period = uniform(generator, (batch, 1, 1), side / 8, side / 4)
    axis = torch.arange(side, dtype=torch.float32)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    ramp = torch.cos(direction)[:, None, None] * x + torch.sin(direction)[:, None, None] * y
    stripes = (torch.floor(ramp / period) % 2)[:, None]  # [B, 1, H, W]
    return dark + (light - dark) * stripes


def render(colours, shapes, sizes, generator, style="photo", image_size=32):
    """Float [B, 3, image_size, image_size] in [0, 1]; ``colours``, ``shapes``, ``sizes`` are
    [B] integer tensors indexing vocabulary.COLOURS, SHAPES and SIZES."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    colours, shapes, sizes = (
        torch.as_tensor(t, dtype=torch.long) for t in (colours, shapes, sizes)
    )
    batch, side = len(colours), image_size * SUPERSAMPLE
    palette = torch.tensor([rgb for _, rgb in COLOURS])
    paint = palette[colours] + 0.04 * torch.randn((batch, 3), generator=generator)
    paint = paint[:, :, None, None].clamp(0.0, 1.0)  # [B, 3, 1, 1]
    mask = object_masks(shapes, sizes, generator, side)  # [B, H, W]

    if style == "outline":
        background = uniform(generator, (batch, 1, 1, 1), 0.85, 1.0).expand(-1, 3, side, side)
        mask = outline(mask, thickness=SUPERSAMPLE * 2)
    elif style == "tint":
        background = striped_background(generator, batch, side)
    else:
        background = photo_background(generator, batch, side)
    mask = mask[:, None]  # [B, 1, H, W]
    image = background * (1.0 - mask) + paint * mask
    image = F.avg_pool2d(image, SUPERSAMPLE)  # [B, 3, image_size, image_size]

    if style == "noise":
        image = 0.5 + 0.6 * (image - 0.5)
        image = image + 0.12 * torch.randn(image.shape, generator=generator)
    elif style == "tint":
        cast = torch.tensor(WARM_LIGHT)[None, :, None, None]
        image = image * (cast + 0.05 * torch.randn((batch, 3, 1, 1), generator=generator))
    return image.clamp(0.0, 1.0)
