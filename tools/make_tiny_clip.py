"""Write a tiny, randomly initialised CLIP checkpoint with the real CLIP architecture.

The file holds the state_dict that ``clip.model.build_model`` builds and the activation it runs
(``clip_state_file``), which ``MODEL.BACKBONE.NAME`` set to its path loads. Used by the tests
and the offline demo; it knows nothing about images.

    python tools/make_tiny_clip.py --out toy_data/tiny_clip.pt
"""

import os
import sys

import torch
from clip.model import CLIP

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from prompting.clip_loading import clip_state_file  # noqa: E402
from run.atomic_files import atomic_path  # noqa: E402
from run.tool_cli import (  # noqa: E402
    ToolArgumentParser,
    check_seed,
    check_writable_folder,
    refuse,
    reports_user_errors,
)

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
# per encoder: each such trainer declares the options that fit them (TINY_DEPTH_OPTIONS,
# trainers.tiny_depth_options).


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
    with atomic_path(path) as tmp_path:
        torch.save(clip_state_file(model), tmp_path)
    return path


@reports_user_errors
def main(argv=None):
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where to write the state_dict (.pt)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    check_seed(args.seed)
    refuse(os.path.isdir(args.out), f'--out "{args.out}" is a folder: give the file to write')
    check_writable_folder(f'--out "{args.out}"', os.path.dirname(os.path.abspath(args.out)))
    print(f"Wrote tiny CLIP to {write_tiny_clip(args.out, seed=args.seed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
