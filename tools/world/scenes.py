"""Random scenes and their captions, as tensors: what pretraining draws at every step."""

from typing import NamedTuple

import torch

from . import vocabulary
from .render import render


class SceneBatch(NamedTuple):
    images: torch.Tensor  # [B, 3, S, S] in [0, 1]
    tokens: torch.Tensor  # [B, 77] caption tokens
    targets: torch.Tensor  # [B, B]: 1 where caption j describes image i
    colours: torch.Tensor  # [B] indices into vocabulary.COLOURS (likewise shapes, sizes)
    shapes: torch.Tensor
    sizes: torch.Tensor


class SceneSampler:
    """Draws scenes of the whole world (every class, size and caption template) from a generator.

    Every caption the world can produce is tokenised once; a batch picks rows of that table.
    """

    def __init__(self, tokenize):
        self.num_colours = len(vocabulary.COLOURS)
        self.num_shapes = len(vocabulary.SHAPES)
        self.num_sizes = len(vocabulary.SIZES)
        self.num_templates = len(vocabulary.CAPTION_TEMPLATES)
        captions = [
            vocabulary.caption(template, colour, shape, size)
            for template in range(self.num_templates)
            for colour in range(self.num_colours)
            for shape in range(self.num_shapes)
            for size in range(self.num_sizes)
        ]
        self.tokens = tokenize(captions)  # [n_captions, 77]
        self.template_mentions_size = torch.tensor(
            [vocabulary.mentions_size(t) for t in vocabulary.CAPTION_TEMPLATES]
        )

    def caption_rows(self, templates, colours, shapes, sizes):
        per_template = self.num_colours * self.num_shapes * self.num_sizes
        return (
            templates * per_template + (colours * self.num_shapes + shapes) * self.num_sizes + sizes
        )

    def sample(self, batch, generator, image_size=32):
        """A SceneBatch; caption j describes image i (``targets[i, j]`` = 1) when both have
        the same colour and shape, and the same size where the caption names one."""

        def draw(high):
            return torch.randint(high, (batch,), generator=generator)

        colours, shapes, sizes = draw(self.num_colours), draw(self.num_shapes), draw(self.num_sizes)
        templates = draw(self.num_templates)
        images = render(colours, shapes, sizes, generator, "photo", image_size)
        tokens = self.tokens[self.caption_rows(templates, colours, shapes, sizes)]
        same_class = (colours[:, None] == colours[None]) & (shapes[:, None] == shapes[None])
        size_fits = (sizes[:, None] == sizes[None]) | ~self.template_mentions_size[templates][None]
        targets = (same_class & size_fits).float()
        return SceneBatch(images, tokens, targets, colours, shapes, sizes)
