"""Write a tiny, randomly initialised OpenCLIP model as an OpenCLIP model folder.

The folder holds ``open_clip_config.json`` (the model and preprocessing config) and
``open_clip_pytorch_model.bin`` (the state dict), as a model hub repository does, so
``MODEL.BACKBONE.NAME openclip:local-dir:<folder>`` loads it without a download. Its
architecture is the tiny CLIP's (``tools/make_tiny_clip.py``) in OpenCLIP's config terms.

    python tools/make_tiny_openclip.py --out toy_data/tiny_openclip
"""

import argparse
import json
import os
import sys

import torch
from open_clip.model import CLIP as OpenCLIPModel

if __package__ in (None, ""):  # run as a script: make `tools.` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.make_tiny_clip import TINY_VIT  # noqa: E402

HEAD_WIDTH = 64  # OpenAI's CLIP gives every block width // 64 heads; OpenCLIP's configs say so
WEIGHTS_FILE = "open_clip_pytorch_model.bin"
CONFIG_FILE = "open_clip_config.json"
OPENAI_PIXEL_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_PIXEL_STD = (0.26862954, 0.26130258, 0.27577711)


def tiny_openclip_config(quick_gelu=False, **overrides):
    """OpenCLIP's ``model_cfg`` of the tiny CLIP (``TINY_VIT`` with ``overrides``)."""
    arch = dict(TINY_VIT, **overrides)
    return {
        "embed_dim": arch["embed_dim"],
        "quick_gelu": quick_gelu,
        "vision_cfg": {
            "image_size": arch["image_resolution"],
            "layers": arch["vision_layers"],
            "width": arch["vision_width"],
            "patch_size": arch["vision_patch_size"],
            "head_width": HEAD_WIDTH,
        },
        "text_cfg": {
            "context_length": arch["context_length"],
            "vocab_size": arch["vocab_size"],
            "width": arch["transformer_width"],
            "heads": max(arch["transformer_width"] // HEAD_WIDTH, 1),
            "layers": arch["transformer_layers"],
        },
    }


def build_tiny_openclip(seed=0, quick_gelu=False, **overrides):
    """A randomly initialised fp32 OpenCLIP model of the tiny CLIP's architecture, eval mode."""
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = OpenCLIPModel(**tiny_openclip_config(quick_gelu, **overrides))
    finally:
        torch.random.set_rng_state(generator_state)
    return model.eval()


def write_tiny_openclip(folder, seed=0, quick_gelu=False, state_dict=None, **overrides):
    """Write the model folder; ``state_dict`` (e.g. an OpenAI tiny CLIP's) replaces the random
    weights. Returns ``folder``."""
    model = build_tiny_openclip(seed, quick_gelu, **overrides)
    if state_dict is not None:
        model.load_state_dict(state_dict)
    config = {
        "model_cfg": tiny_openclip_config(quick_gelu, **overrides),
        "preprocess_cfg": {"mean": OPENAI_PIXEL_MEAN, "std": OPENAI_PIXEL_STD},
    }
    os.makedirs(folder, exist_ok=True)
    for name, write in (
        (WEIGHTS_FILE, lambda tmp: torch.save(model.state_dict(), tmp)),
        (CONFIG_FILE, lambda tmp: write_json(config, tmp)),
    ):
        path = os.path.join(folder, name)
        tmp_path = f"{path}.tmp{os.getpid()}"
        write(tmp_path)
        os.replace(tmp_path, path)
    return folder


def write_json(data, path):
    with open(path, "w") as file:
        json.dump(data, file, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the model folder to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick-gelu", action="store_true", help="QuickGELU blocks (OpenAI's)")
    args = parser.parse_args()
    folder = write_tiny_openclip(args.out, seed=args.seed, quick_gelu=args.quick_gelu)
    print(f"Wrote tiny OpenCLIP to {folder}: MODEL.BACKBONE.NAME openclip:local-dir:{folder}")


if __name__ == "__main__":
    main()
