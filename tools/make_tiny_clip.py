"""Write a tiny, randomly initialised CLIP checkpoint with the real CLIP architecture.

The file is a plain state_dict that ``clip.model.build_model`` (and so ``MODEL.BACKBONE.NAME``
set to its path) loads. Used by the tests and the offline demo; it knows nothing about images.

    python tools/make_tiny_clip.py --out toy_data/tiny_clip.pt
"""

import argparse
import os

import torch
from clip.model import CLIP

# Small enough for 2 CPU cores, yet with every structural feature of ViT CLIP; the vision
# width differs from the text width (as 768 vs 512 in ViT-B/16) so no code can mix them up,
# and the vision encoder has 2 heads (CLIP uses width // 64).
TINY_VIT = dict(
    embed_dim=32,
    image_resolution=32,
    vision_layers=2,
    vision_width=128,
    vision_patch_size=8,
    context_length=77,
    vocab_size=49408,
    transformer_width=64,
    transformer_heads=1,
    transformer_layers=2,
)
# The published prompt depths of the deep-prompt methods (9, 12 blocks) do not fit its 2 blocks
# per encoder: toy and tiny-CLIP runs of those methods pass these options (trainer -> options).
TINY_DEPTH_OPTIONS = {
    "IVLP": ("TRAINER.IVLP.PROMPT_DEPTH_TEXT", 2, "TRAINER.IVLP.PROMPT_DEPTH_VISION", 2),
    "MaPLe": ("TRAINER.MAPLE.PROMPT_DEPTH", 2),
    "PromptSRC": (
        "TRAINER.PROMPTSRC.PROMPT_DEPTH_TEXT",
        2,
        "TRAINER.PROMPTSRC.PROMPT_DEPTH_VISION",
        2,
    ),
    "TCP": ("TRAINER.TCP.CLASS_TOKEN_DEPTH", 2),
}


def build_tiny_clip(seed=0, **overrides):
    """A randomly initialised fp32 CLIP with the real architecture (ViT image encoder)."""
    arch = dict(TINY_VIT, **overrides)
    arch["transformer_heads"] = arch["transformer_width"] // 64
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = CLIP(**arch)
    finally:
        torch.random.set_rng_state(generator_state)
    return model.eval()


def write_tiny_clip(path, seed=0, **overrides):
    model = build_tiny_clip(seed=seed, **overrides)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp_path = f"{path}.tmp"
    torch.save(model.state_dict(), tmp_path)
    os.replace(tmp_path, path)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where to write the state_dict (.pt)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"Wrote tiny CLIP to {write_tiny_clip(args.out, seed=args.seed)}")


if __name__ == "__main__":
    main()
