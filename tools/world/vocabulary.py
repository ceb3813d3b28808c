"""What exists in the world and how captions name it.

A class is a colour and a shape ("red circle"); size is a nuisance attribute some captions
mention ("a small red circle"). Every word is a plain English word, so CLIP's tokenizer reads
class names as ordinary text and what the text encoder learns about "red" or "ring" carries over
to combinations it was never tuned on.
"""

import itertools

# (word, RGB in [0, 1]): hues far apart, none of them grey, so backgrounds never look like one.
COLOURS = (
    ("red", (0.90, 0.10, 0.10)),
    ("orange", (1.00, 0.55, 0.05)),
    ("yellow", (0.95, 0.90, 0.10)),
    ("green", (0.10, 0.75, 0.20)),
    ("cyan", (0.10, 0.80, 0.85)),
    ("blue", (0.15, 0.25, 0.95)),
    ("purple", (0.60, 0.15, 0.75)),
    ("pink", (1.00, 0.50, 0.75)),
)
SHAPES = ("circle", "square", "triangle", "cross", "ring", "diamond")
SIZES = ("small", "large")

# {colour} {shape} always appear; {size} only in some templates. "a photo of a {}." is the
# generic template zero-shot CLIP uses for datasets outside the hand-crafted table.
CAPTION_TEMPLATES = (
    "a photo of a {colour} {shape}.",
    "a {colour} {shape}.",
    "a picture of a {colour} {shape}.",
    "a {shape} in {colour}.",
    "a photo of a {size} {colour} {shape}.",
    "a {size} {colour} {shape}.",
    "a {size} {shape} in {colour}.",
)


def class_names():
    """All colour-shape classes, colour-major: index = colour * len(SHAPES) + shape."""
    return [f"{colour} {shape}" for (colour, _), shape in itertools.product(COLOURS, SHAPES)]


def class_index(colour, shape):
    return colour * len(SHAPES) + shape


def mentions_size(template):
    return "{size}" in template


def caption(template_index, colour, shape, size):
    template = CAPTION_TEMPLATES[template_index]
    return template.format(colour=COLOURS[colour][0], shape=SHAPES[shape], size=SIZES[size])
