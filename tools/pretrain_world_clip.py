"""Pretrain the world CLIP (contrastive, from scratch) or reuse the one already built.

    python tools/pretrain_world_clip.py                # build once into ~/.cache, print its path
    python tools/pretrain_world_clip.py --out FILE     # pretrain into FILE (no cache)

The checkpoint is a CLIP state_dict with its activation (``clip_state_file``):
``MODEL.BACKBONE.NAME <file>`` loads it through the same code as a real CLIP. The cached one is
keyed by a digest of the world's code, the training configuration and the torch version, and
``~/.cache/sep-prompt-tuning/world_clip.pt`` (the name the world trainer configs use) links to
it. Minutes on 2 CPU cores the first time, then instant.
"""

import argparse
import dataclasses
import json
import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.world.clip_cache import build_world_clip, world_clip_path  # noqa: E402
from tools.world.pretrain import DEFAULT_CONFIG  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the checkpoint here instead of the cache")
    parser.add_argument("--seed", type=int, default=DEFAULT_CONFIG.seed)
    parser.add_argument("--steps", type=int, default=DEFAULT_CONFIG.steps)
    args = parser.parse_args()
    config = dataclasses.replace(DEFAULT_CONFIG, seed=args.seed, steps=args.steps)
    if args.out:
        report = build_world_clip(args.out, config)
        print(json.dumps(report, indent=2))
        print(f"Wrote the world CLIP to {args.out}")
    else:
        print(world_clip_path(config))


if __name__ == "__main__":
    main()
