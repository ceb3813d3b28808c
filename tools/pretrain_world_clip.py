"""Pretrain the world CLIP (contrastive, from scratch) or reuse the one already built.

    python tools/pretrain_world_clip.py                # build once into ~/.cache, print its path
    python tools/pretrain_world_clip.py --out FILE     # pretrain into FILE (no cache)

The checkpoint is a CLIP state_dict with its activation (``clip_state_file``):
``MODEL.BACKBONE.NAME <file>`` loads it through the same code as a real CLIP. The cached one is
keyed by a digest of the world's code, the training configuration and the torch version, and
``~/.cache/sep-prompt-tuning/world_clip.pt`` (the name the world trainer configs use) links to
it. Minutes on 2 CPU cores the first time, then instant.
"""

import dataclasses
import json
import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from run.tool_cli import (  # noqa: E402
    ToolArgumentParser,
    check_seed,
    check_writable_folder,
    refuse,
    reports_user_errors,
)
from tools.world.clip_cache import build_world_clip, report_path, world_clip_path  # noqa: E402
from tools.world.pretrain import DEFAULT_CONFIG  # noqa: E402


def check_args(args):
    """Every mistake that would otherwise surface only after the pretraining."""
    check_seed(args.seed)
    refuse(
        args.steps <= DEFAULT_CONFIG.warmup_steps,
        f"--steps {args.steps}: give more than the {DEFAULT_CONFIG.warmup_steps} warm-up steps "
        f"(default {DEFAULT_CONFIG.steps}); fewer would write an untrained CLIP",
    )
    if args.out is None:
        return
    out = args.out
    refuse(os.path.isdir(out), f'--out "{out}" is a folder: give the checkpoint file to write')
    refuse(
        os.path.splitext(out)[1].lower() == ".json",
        f'--out "{out}": the report is written beside the checkpoint as <name>.json; give the '
        "checkpoint another suffix (.pt)",
    )
    for path in (out, report_path(out)):
        refuse(os.path.lexists(path), f'"{path}" already exists: remove it or give another --out')
    check_writable_folder(f'--out "{out}"', os.path.dirname(os.path.abspath(out)))


@reports_user_errors
def main(argv=None):
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the checkpoint here instead of the cache")
    parser.add_argument("--seed", type=int, default=DEFAULT_CONFIG.seed)
    parser.add_argument("--steps", type=int, default=DEFAULT_CONFIG.steps)
    args = parser.parse_args(argv)
    check_args(args)
    config = dataclasses.replace(DEFAULT_CONFIG, seed=args.seed, steps=args.steps)
    if args.out:
        report = build_world_clip(args.out, config)
        print(json.dumps(report, indent=2))
        print(f"Wrote the world CLIP to {args.out}")
    else:
        print(world_clip_path(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
