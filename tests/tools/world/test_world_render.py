"""The world renderer: deterministic, batched, and drawing what the captions say."""

import pytest
import torch

from tools.world.render import STYLES, render, shape_masks
from tools.world.vocabulary import COLOURS, SHAPES


def scenes(batch):
    index = torch.arange(batch)
    return index % len(COLOURS), index % len(SHAPES), index % 2


@pytest.mark.parametrize("style", STYLES)
def test_one_call_renders_the_whole_batch_in_range(style):
    images = render(*scenes(10), torch.Generator().manual_seed(0), style, image_size=24)
    assert images.shape == (10, 3, 24, 24)
    assert images.dtype == torch.float32
    assert images.min() >= 0.0 and images.max() <= 1.0


@pytest.mark.parametrize("style", STYLES)
def test_the_same_seed_draws_the_same_images_and_another_seed_others(style):
    first = render(*scenes(6), torch.Generator().manual_seed(3), style)
    again = render(*scenes(6), torch.Generator().manual_seed(3), style)
    other = render(*scenes(6), torch.Generator().manual_seed(4), style)
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)


def test_shapes_follow_their_plain_geometry():
    # points in the object's unit coordinates (u right, v down)
    points = {
        "centre": (0.0, 0.0),
        "corner": (0.75, 0.75),
        "diagonal": (0.6, 0.6),
        "arm": (0.6, 0.0),
    }
    u = torch.tensor([[p[0] for p in points.values()]])
    v = torch.tensor([[p[1] for p in points.values()]])
    masks = shape_masks(u, v)[:, 0]  # [n_shapes, n_points]
    inside = {shape: dict(zip(points, masks[i].tolist())) for i, shape in enumerate(SHAPES)}
    assert inside["circle"] == {"centre": True, "corner": False, "diagonal": True, "arm": True}
    assert inside["square"] == {"centre": True, "corner": True, "diagonal": True, "arm": True}
    assert inside["cross"] == {"centre": True, "corner": False, "diagonal": False, "arm": True}
    assert inside["ring"] == {"centre": False, "corner": False, "diagonal": True, "arm": True}
    assert inside["diamond"] == {"centre": True, "corner": False, "diagonal": False, "arm": True}
    # the triangle's apex is up: wide near the bottom, narrow near the top
    assert inside["triangle"]["centre"]
    wide, narrow = shape_masks(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.6, -0.6]]))[2, 0]
    assert bool(wide) and not bool(narrow)


def test_objects_are_painted_in_their_colour():
    red, blue = 0, 5
    assert COLOURS[red][0] == "red" and COLOURS[blue][0] == "blue"
    generator = torch.Generator().manual_seed(0)
    shapes, sizes = torch.zeros(8, dtype=torch.long), torch.ones(8, dtype=torch.long)
    for colour, channel in ((red, 0), (blue, 2)):
        images = render(torch.full((8,), colour), shapes, sizes, generator, "photo")
        others = [c for c in range(3) if c != channel]
        strongly_coloured = images[:, channel] > images[:, others].max(dim=1).values + 0.4
        assert strongly_coloured.flatten(1).any(dim=1).all()  # every image has such pixels
        assert strongly_coloured.float().mean() > 0.1  # a large object covers a good part


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="style"):
        render(*scenes(2), torch.Generator(), "sketch")
