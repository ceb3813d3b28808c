"""Write the compact world CLIP the repository ships, from a pretrained world CLIP checkpoint.

    python tools/ship_world_clip.py ~/.cache/sep-prompt-tuning/world-clip-<key>.pt \
        --out tools/world/world_clip_compact.pt

The checkpoint's JSON report (written beside it by pretraining) gives its configuration and
accuracy; the compact file keeps both (tools/world/compact_clip.py). Ship one built from the
default configuration: tools/world/clip_cache.py uses it only for that configuration.
"""

import json
import os
import sys

import torch

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from prompting.clip_loading import read_state_file  # noqa: E402
from run.atomic_files import atomic_path  # noqa: E402
from run.tool_cli import ToolArgumentParser, refuse, reports_user_errors  # noqa: E402
from tools.world.compact_clip import compact, expand  # noqa: E402
from tools.world.pretrain import PretrainConfig  # noqa: E402


@reports_user_errors
def main(argv=None):
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a world CLIP file with its .json report beside")
    parser.add_argument("--out", required=True, help="the compact file to write (must not exist)")
    args = parser.parse_args(argv)
    report_path = os.path.splitext(args.checkpoint)[0] + ".json"
    for path in (args.checkpoint, report_path):
        refuse(
            not os.path.isfile(path), f"{path} does not exist: pass a checkpoint pretraining wrote"
        )
    refuse(os.path.exists(args.out), f"{args.out} exists: pass another --out or remove it first")
    with open(report_path) as file:
        report = json.load(file)
    state_dict = read_state_file(args.checkpoint)
    compact_weights = compact(state_dict, PretrainConfig(**report["config"]), report)
    expand(compact_weights)  # refuses now rather than on a user's machine
    with atomic_path(args.out) as tmp_path:
        torch.save(compact_weights, tmp_path)
    print(
        f"Wrote {args.out}: weights digest {compact_weights['weights_digest']}, "
        f"{len(compact_weights['token_rows'])} token-embedding rows kept"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
