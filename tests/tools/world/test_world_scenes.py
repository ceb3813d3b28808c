"""Scene batches: captions name the image's attributes, and the targets say which fit which."""

import torch
from clip.simple_tokenizer import SimpleTokenizer

from prompting.text_encoder import tokenize
from tools.world.scenes import SceneSampler
from tools.world.vocabulary import COLOURS, SHAPES, SIZES


def decode(tokens, tokenizer):
    ids = [int(t) for t in tokens if int(t) != 0][1:-1]  # drop [SOS], [EOS] and padding
    return tokenizer.decode(ids).strip()


def test_each_caption_names_its_own_image_and_targets_mark_every_fitting_caption():
    batch = SceneSampler(tokenize).sample(48, torch.Generator().manual_seed(0))
    assert batch.images.shape == (48, 3, 32, 32)
    tokenizer = SimpleTokenizer()
    captions = [decode(tokens, tokenizer) for tokens in batch.tokens]
    for i in range(48):
        colour, shape = COLOURS[batch.colours[i]][0], SHAPES[batch.shapes[i]]
        size = SIZES[batch.sizes[i]]
        for j, text in enumerate(captions):
            words = text.replace(".", " ").split()
            named_size = [word for word in words if word in SIZES]
            fits = colour in words and shape in words and named_size in ([], [size])
            assert batch.targets[i, j] == float(fits), (i, j, text)
    assert torch.all(batch.targets.diagonal() == 1)
    attributes = {name for name, _ in COLOURS} | set(SHAPES) | set(SIZES)
    templates = {" ".join(w for w in text.split() if w not in attributes) for text in captions}
    assert len(templates) >= 3
