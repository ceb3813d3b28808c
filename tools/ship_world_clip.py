"""Write the compact world CLIP the repository ships, from a pretrained world CLIP checkpoint.

    python tools/ship_world_clip.py ~/.cache/sep-prompt-tuning/world-clip-<key>.pt \
        --out tools/world/world_clip_compact.pt

The checkpoint's JSON report (written beside it by pretraining) gives its configuration and
accuracy; the compact file keeps both (tools/world/compact_clip.py). Ship one built from the
default configuration: tools/world/clip_cache.py uses it only for that configuration.
"""

import argparse
import json
import os
import sys

import torch

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.world.build_files import atomic_write  # noqa: E402
from tools.world.compact_clip import compact, expand  # noqa: E402
from tools.world.pretrain import PretrainConfig  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a world CLIP state_dict with its .json report beside")
    parser.add_argument("--out", required=True, help="the compact file to write (must not exist)")
    args = parser.parse_args(argv)
    report_path = os.path.splitext(args.checkpoint)[0] + ".json"
    for path in (args.checkpoint, report_path):
        if not os.path.isfile(path):
            print(
                f"Error: {path} does not exist: pass a checkpoint pretraining wrote",
                file=sys.stderr,
            )
            return 2
    if os.path.exists(args.out):
        print(f"Error: {args.out} exists: pass another --out or remove it first", file=sys.stderr)
        return 2
    with open(report_path) as file:
        report = json.load(file)
    state_dict = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    compact_weights = compact(state_dict, PretrainConfig(**report["config"]), report)
    expand(compact_weights)  # refuses now rather than on a user's machine
    atomic_write(lambda tmp: torch.save(compact_weights, tmp), args.out)
    print(
        f"Wrote {args.out}: weights digest {compact_weights['weights_digest']}, "
        f"{len(compact_weights['token_rows'])} token-embedding rows kept"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
