"""Convert a checkpoint of the authors' SEP code into this repository's SEP checkpoint.

The authors' trainer saves its whole PromptLearner under ``prompt_learner/model.pth.tar-<epoch>``
with one Token Fusion Module per encoder block, indexed by position in the list of fusion layers.
This writes the same learned tensors under this repository's names, so the model can be
evaluated here (``train.py --trainer SEP --eval-only --model-dir OUT``):

    python tools/convert_reference_sep_checkpoint.py \
        --src reference_run/prompt_learner/model.pth.tar-50 --out converted_run

``--layers`` must be the fusion layers the reference run used (its default, L_IND 0: 1..11).
"""

import os
import re
import sys

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from run.tool_cli import ToolArgumentParser, refuse, reports_user_errors  # noqa: E402
from tools.checkpoint_conversion import (  # noqa: E402
    ConversionError,
    check_paths,
    read_checkpoint,
    write_run,
)

# reference TFM parameter name -> ours (prompting/sep/token_fusion.py)
TFM_PARAMETER_NAMES = {
    "promt_attention_visual.in_proj_weight": "attn.in_proj_weight",
    "promt_attention_visual.in_proj_bias": "attn.in_proj_bias",
    "promt_attention_visual.out_proj.weight": "attn.out_proj.weight",
    "promt_attention_visual.out_proj.bias": "attn.out_proj.bias",
    "ln_pa_1_visual.weight": "ln_1.weight",
    "ln_pa_1_visual.bias": "ln_1.bias",
    "ln_pa_2_visual.weight": "ln_2.weight",
    "ln_pa_2_visual.bias": "ln_2.bias",
    "mlp_pa_visual.c_fc1.weight": "mlp.c_fc.weight",
    "mlp_pa_visual.c_proj.weight": "mlp.c_proj.weight",
    "scale1": "scale_1",
    "scale2": "scale_2",
}
# reference TFM list -> our module holding the TFMs, keyed by block index
TFM_LISTS = {"prompt_projections": "text_fusion", "visual_prompts": "visual_prompts.fusion_modules"}
PLAIN_TENSORS = {
    "ctx": "prompt_learner.ctx",
    "ctx_visual": "visual_prompts.tokens",
    "VPT_fc.weight": "prototype.weight",
}
REFERENCE_DEFAULT_LAYERS = tuple(range(1, 12))


def tfm_count(reference_state):
    """How many Token Fusion Modules per encoder the reference checkpoint holds (one per block)."""
    tfm_key = re.compile(r"^({})\.(\d+)\.".format("|".join(TFM_LISTS)))
    indices = [int(match.group(2)) for match in map(tfm_key.match, reference_state) if match]
    return max(indices) + 1 if indices else 0


def convert_state_dict(reference_state, layers=REFERENCE_DEFAULT_LAYERS):
    """Our ``SEPLearnable`` state_dict from the reference PromptLearner's.

    TFM ``i`` of the reference precedes block ``layers[i]``; TFMs past the list (the reference
    builds one per block) and the reference's unused modules are left out.
    """
    tfm_key = re.compile(r"^({})\.(\d+)\.(.+)$".format("|".join(TFM_LISTS)))
    converted = {}
    for key, value in reference_state.items():
        if key in PLAIN_TENSORS:
            converted[PLAIN_TENSORS[key]] = value
            continue
        match = tfm_key.match(key)
        if not match or match.group(3) not in TFM_PARAMETER_NAMES:
            continue  # token buffers, unused template modules, the unused ln_pa_1_token
        index = int(match.group(2))
        if index < len(layers):
            name = (
                f"{TFM_LISTS[match.group(1)]}.{layers[index]}.{TFM_PARAMETER_NAMES[match.group(3)]}"
            )
            converted[name] = value
    missing_tensors = [name for name in PLAIN_TENSORS.values() if name not in converted]
    if missing_tensors:
        raise ConversionError(f"Not a reference SEP checkpoint: no {missing_tensors}")
    return converted


@reports_user_errors
def main(argv=None):
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--src", required=True, help="the reference run's prompt_learner/model.pth.tar-N"
    )
    parser.add_argument("--out", required=True, help="run folder to write (prompt_learner/ inside)")
    parser.add_argument(
        "--layers",
        type=int,
        nargs="+",
        default=list(REFERENCE_DEFAULT_LAYERS),
        help="fusion layers of the reference run (default 1..11)",
    )
    args = parser.parse_args(argv)
    layers = tuple(args.layers)
    refuse(
        list(layers) != sorted(set(layers)) or min(layers) < 0,
        f"--layers {' '.join(map(str, layers))}: give distinct block indices >= 0 in increasing "
        "order (the reference run's fusion layers)",
    )
    check_paths(args.src, args.out)
    reference_state, epoch = read_checkpoint(args.src)
    state = convert_state_dict(reference_state, layers)
    in_file = tfm_count(reference_state)
    refuse(
        layers[-1] >= in_file,
        f"--layers names block {layers[-1]}, but the checkpoint has {in_file} blocks (one Token "
        f"Fusion Module each): give layers below {in_file}",
    )
    (path,) = write_run(args.out, {"prompt_learner": state}, epoch)
    print(
        f"Kept the first {len(layers)} of the {in_file} Token Fusion Modules per encoder (the "
        "reference trains one per layer of --layers and leaves the rest unused)"
    )
    print(
        f"Wrote {path}; evaluate with --model-dir {args.out} and "
        f'TRAINER.SEP.FUSION_LAYERS "{layers}"'
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
