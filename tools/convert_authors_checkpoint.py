"""Convert a checkpoint of the authors' IVLP, MaPLe, PromptSRC, HiCroPL, ProGrad or TCP code into
this repository's.

The authors' trainers save their whole model, frozen CLIP included, as
``VLPromptLearner/model.pth.tar-<epoch>`` (IVLP, PromptSRC, HiCroPL) or
``MultiModalPromptLearner/model.pth.tar-<epoch>`` (MaPLe); ProGrad's and TCP's save their prompt
learner, with its class-token buffers, as ``prompt_learner/model.pth.tar-<epoch>``. This keeps
only the learned tensors,
under this repository's names, checks their names and shapes, and writes a run folder that
``train.py --eval-only`` evaluates:

    python tools/convert_authors_checkpoint.py --trainer PromptSRC \
        --src authors_run/VLPromptLearner/model.pth.tar-20 --out converted_run

It prints the method options the checkpoint implies (token counts, depths); pass them, and the
``CTX_INIT`` of the authors' run, with ``--eval-only --model-dir converted_run --load-epoch 20``.
"""

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dassl_setup  # noqa: E402,F401  (before anything that imports dassl)
from prompting.prompt_averaging import sum_buffer_name  # noqa: E402
from run.tool_cli import ToolArgumentParser, reports_user_errors  # noqa: E402
from tools.checkpoint_conversion import (  # noqa: E402
    ConversionError,
    check_paths,
    read_checkpoint,
    write_run,
)
from trainers import TRAINERS as ALL_TRAINERS  # noqa: E402

# the trainers whose authors' checkpoints convert: those declaring the layout of them
TRAINERS = {
    trainer.__name__: trainer
    for trainer in ALL_TRAINERS
    if trainer.AUTHORS_CHECKPOINT_LAYOUT is not None
}
CONTEXT = "text.prompt_learner.ctx"


@dataclass(frozen=True)
class Series:
    """Tensors ``source.format(i)`` for ``i = first, first + 1, ..`` (no gaps), stored as
    ``target.format(target_first + i - first)``."""

    source: str
    target: str
    first: int
    target_first: int

    def match(self, key, template=None):
        """The index in ``key`` when it is an entry of ``template`` (default: the source)."""
        template = template or self.source
        pattern = re.escape(template).replace(r"\{\}", r"(\d+)") + "$"
        found = re.match(pattern, key)
        return None if found is None else int(found.group(1))


@dataclass(frozen=True)
class Layout:
    """The authors' learned tensors of one method: single tensors (source -> ours; those in
    ``optional`` may be absent) and series of per-block tensors, and what the converter checks
    and prints for them."""

    folder: str  # the authors' checkpoint folder in their run
    singles: dict
    series: tuple
    # the method options under which this repository builds the converted tensors
    implied_options: Callable[[dict], dict]
    # checks of the converted tensors beyond the context's and prompt sets' shapes; each
    # returns the shapes it expects of further tensors, by name pattern
    checks: tuple[Callable[[dict, str], dict], ...] = ()
    # how the printed evaluation command gets the rest of the authors' options ({node}: the
    # method's config node)
    evaluation_note: str = (
        "and TRAINER.{node}.CTX_INIT as in the authors' run; their configs use \"a photo of a\""
    )
    optional: tuple = ()
    aliases: tuple = ()  # (source, single's source): a second key of the same tensor, dropped
    context: str = CONTEXT  # our name of the input context


def text_depth(converted):
    """The number of text prompt sets: the context and one per deeper block."""
    return 1 + sum(name.startswith("text.deep.") for name in converted)


def context_options(converted, n_ctx):
    return {"N_CTX": n_ctx}


def coupled_options(converted, n_ctx):
    return {"N_CTX": n_ctx, "PROMPT_DEPTH": text_depth(converted)}


def cross_modal_options(converted, n_ctx):
    cross_layer = sum(re.fullmatch(r"text_proxies\.\d+\.token", k) is not None for k in converted)
    return {**coupled_options(converted, n_ctx), "CROSS_LAYER": cross_layer}


def independent_options(converted, n_ctx):
    options = {
        "N_CTX_TEXT": n_ctx,
        "PROMPT_DEPTH_TEXT": text_depth(converted),
        "PROMPT_DEPTH_VISION": 0,
    }
    visual = [name for name in converted if name.startswith("visual.")]
    if visual:
        options["N_CTX_VISION"] = converted["visual.0"].shape[0]
        options["PROMPT_DEPTH_VISION"] = len(visual)
    return options


def check_cross_modal_counts(converted, context, trainer):
    """HiCroPL: one visual set per text set, as many tokens, and one LKP per block."""
    depth = text_depth(converted)
    counts = {
        "visual": sum(re.fullmatch(r"visual\.\d+", name) is not None for name in converted),
        "proxies": sum(
            re.fullmatch(r"\w+_proxies\.\d+\.token", name) is not None for name in converted
        ),
    }
    for what, count in counts.items():
        if count != depth:
            raise ConversionError(f"{count} {what} for {depth} text prompt sets: one per block")
    n_ctx = context.shape[0]
    if converted["visual.0"].shape[0] != n_ctx:
        raise ConversionError(
            f"{converted['visual.0'].shape[0]} visual tokens per block, {n_ctx} text: HiCroPL "
            "uses one count for both"
        )
    return {}


def check_coupling(converted, context, trainer):
    """MaPLe: coupling layers ``Dt -> Dv``, one per text prompt set."""
    vision_width = converted["coupling.0.weight"].shape[0]
    n_sets = text_depth(converted)
    for index in range(n_sets + 1):
        for part in ("weight", "bias"):
            name = f"coupling.{index}.{part}"
            if (name in converted) != (index < n_sets):
                state = "is missing" if index < n_sets else "has no text prompt set"
                raise ConversionError(
                    f'"{source_name(name, trainer)}" {state}: MaPLe has one coupling layer '
                    "per text prompt set"
                )
    return {
        r"coupling\.\d+\.weight": (vision_width, context.shape[1]),
        r"coupling\.\d+\.bias": (vision_width,),
    }


def check_class_aware_meta_net(converted, context, trainer):
    """TCP: the meta-net makes n_ctx class-aware tokens of the text width."""
    expected_rows = context.shape[0] * context.shape[1]
    rows = converted["meta_net.linear2.weight"].shape[0]
    if rows != expected_rows:
        raise ConversionError(
            f'"meta_net.linear2.weight" makes {rows} values per class, expected n_ctx x width '
            f"= {expected_rows} for the context's {tuple(context.shape)}"
        )
    return {}


INDEPENDENT = Layout(
    folder="VLPromptLearner",
    implied_options=independent_options,
    singles={"prompt_learner.ctx": CONTEXT, "image_encoder.VPT": "visual.0"},
    series=(
        # the set replacing the context before text block i is our text.deep.<i - 1>
        Series("text_encoder.transformer.resblocks.{}.VPT_shallow", "text.deep.{}", 1, 0),
        Series("image_encoder.transformer.resblocks.{}.VPT_shallow", "visual.{}", 1, 1),
    ),
    optional=("image_encoder.VPT",),  # no visual prompts (PROMPT_DEPTH_VISION 0)
)
COUPLED = Layout(
    folder="MultiModalPromptLearner",
    implied_options=coupled_options,
    checks=(check_coupling,),
    singles={
        "prompt_learner.ctx": CONTEXT,
        "prompt_learner.proj.weight": "coupling.0.weight",
        "prompt_learner.proj.bias": "coupling.0.bias",
    },
    series=(
        Series("prompt_learner.compound_prompts_text.{}", "text.deep.{}", 0, 0),
        Series("prompt_learner.compound_prompt_projections.{}.weight", "coupling.{}.weight", 0, 1),
        Series("prompt_learner.compound_prompt_projections.{}.bias", "coupling.{}.bias", 0, 1),
    ),
)
# HiCroPL: the authors' names of one knowledge mapper's and one LKP's tensors (ours: the MLP
# is ``mlp``, theirs ``ffn``; an LKP's token is a list of its own there).
ATTENTION = (
    "attn.in_proj_weight",
    "attn.in_proj_bias",
    "attn.out_proj.weight",
    "attn.out_proj.bias",
)
NORMS = ("ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias")
LINEARS = ("linear_q", "linear_k", "linear_v", "ffn.c_fc", "ffn.c_proj")
MAPPER = (
    ATTENTION + NORMS + tuple(f"{name}.{part}" for name in LINEARS for part in ("weight", "bias"))
)
AUTHORS_MAPPERS = {"text2visual_net": "text_to_visual", "visual2text_net": "visual_to_text"}
AUTHORS_PROXIES = {"text": "text_proxies", "visual": "visual_proxies"}
CROSS_MODAL = Layout(
    folder="VLPromptLearner",
    implied_options=cross_modal_options,
    checks=(check_cross_modal_counts,),
    evaluation_note=Layout.evaluation_note
    + ', which their HiCroPL code ignores above 4 tokens: then CTX_INIT ""',
    singles={
        "prompt_learner.ctx": CONTEXT,
        **{
            f"prompt_learner.{theirs}.{key}": f"{ours}.{key.replace('ffn.', 'mlp.')}"
            for theirs, ours in AUTHORS_MAPPERS.items()
            for key in MAPPER
        },
    },
    series=(
        Series("prompt_learner.cross_prompts_text.{}", "text.deep.{}", 1, 0),
        Series("prompt_learner.cross_prompts_visual.{}", "visual.{}", 0, 0),
        *(
            Series(f"prompt_learner.{modality}_proxy_token.{{}}", f"{ours}.{{}}.token", 0, 0)
            for modality, ours in AUTHORS_PROXIES.items()
        ),
        *(
            Series(
                f"prompt_learner.attn_pooling_{modality}_nets.{{}}.{key}",
                f"{ours}.{{}}.{key}",
                0,
                0,
            )
            for modality, ours in AUTHORS_PROXIES.items()
            for key in ATTENTION + NORMS
        ),
    ),
    aliases=(("prompt_learner.cross_prompts_text.0", "prompt_learner.ctx"),),
)
# ProGrad's and TCP's prompt learners keep our names (the meta-net's layers included)
CONTEXT_ONLY = Layout(
    folder="prompt_learner",
    singles={"ctx": "ctx"},
    series=(),
    context="ctx",
    implied_options=context_options,
    evaluation_note="with the published config, whose other options build the authors' prompts",
)
META_NET = tuple(f"meta_net.linear{i}.{part}" for i in (1, 2) for part in ("weight", "bias"))
CLASS_AWARE = replace(
    CONTEXT_ONLY,
    singles={"ctx": "ctx", **{name: name for name in META_NET}},
    checks=(check_class_aware_meta_net,),
)
# by the name a trainer declares as its AUTHORS_CHECKPOINT_LAYOUT
LAYOUTS = {
    "independent": INDEPENDENT,
    "coupled": COUPLED,
    "cross_modal": CROSS_MODAL,
    "context_only": CONTEXT_ONLY,
    "class_aware": CLASS_AWARE,
}
# Frozen CLIP (the authors' checkpoints hold the whole model; PromptSRC's second image encoder
# included) and the per-class token buffers: not learned, left out. A key naming a prompt is
# never frozen, so a checkpoint of another method is refused instead of half converted.
FROZEN = re.compile(
    r"((image_encoder|text_encoder|prompt_learner\.ZS_image_encoder)\.(?!.*VPT).*"
    r"|logit_scale|(prompt_learner\.)?token_(prefix|suffix))$"
)


def layout_of(trainer: str) -> Layout:
    """The layout of the authors' checkpoints of ``trainer``, as the trainer declares it."""
    if trainer not in TRAINERS:
        raise ConversionError(
            f"{trainer} declares no layout of the authors' checkpoints (its "
            f"AUTHORS_CHECKPOINT_LAYOUT): converted are {', '.join(sorted(TRAINERS))}"
        )
    return LAYOUTS[TRAINERS[trainer].AUTHORS_CHECKPOINT_LAYOUT]


def convert_state_dict(state, trainer):
    """Our learnable module's state_dict from the authors' model state_dict; raises
    ConversionError naming the first key that does not fit ``trainer``'s layout."""
    layout = layout_of(trainer)
    converted, found = {}, {series: {} for series in layout.series}
    state = drop_aliases(state, layout)
    for key, value in state.items():
        indices = [(series, series.match(key)) for series in layout.series]
        indices = [(series, index) for series, index in indices if index is not None]
        if key in layout.singles:
            converted[layout.singles[key]] = value.float()
        elif indices:
            series, index = indices[0]
            found[series][index] = value.float()
        elif not FROZEN.match(key):
            raise ConversionError(
                f'"{key}" is not a tensor of the authors\' {trainer} checkpoints: was it saved '
                "by another method?"
            )
    for source, target in layout.singles.items():
        if target not in converted and source not in layout.optional:
            raise ConversionError(
                f'"{source}" is missing: not a checkpoint of the authors\' {trainer}'
            )
    for series, entries in found.items():
        for offset, index in enumerate(sorted(entries)):
            if index != series.first + offset:
                missing = series.source.format(series.first + offset)
                raise ConversionError(f'"{missing}" is missing (the checkpoint has later blocks)')
            converted[series.target.format(series.target_first + offset)] = entries[index]
    check_shapes(converted, trainer)
    return converted


def drop_aliases(state, layout):
    """``state`` without the second keys of tensors it holds twice, each checked equal."""
    state = dict(state)
    for alias, source in layout.aliases:
        if alias in state:
            if source not in state or not torch.equal(state[alias], state[source]):
                raise ConversionError(f'"{alias}" differs from "{source}": they are one tensor')
            del state[alias]
    return state


def check_shapes(converted, trainer):
    """Text sets ``[n, Dt]`` as the context, visual sets ``[m, Dv]`` alike, and what the
    layout's own checks expect."""
    layout = layout_of(trainer)
    context = converted[layout.context]
    if context.dim() != 2:
        raise ConversionError(
            f'"{source_name(layout.context, trainer)}" has shape {tuple(context.shape)}: '
            "expected [n_ctx, width], one context shared by the classes"
        )
    expected = {r"text\.deep\.\d+": tuple(context.shape)}
    if "visual.0" in converted:
        expected[r"visual\.\d+"] = tuple(converted["visual.0"].shape)
    elif any(name.startswith("visual.") for name in converted):
        raise ConversionError(
            f'"{source_name("visual.0", trainer)}" is missing (the checkpoint '
            "has deeper visual prompts)"
        )
    for check in layout.checks:
        expected.update(check(converted, context, trainer))
    for name, value in converted.items():
        for pattern, shape in expected.items():
            if re.fullmatch(pattern, name) and tuple(value.shape) != shape:
                raise ConversionError(
                    f'"{source_name(name, trainer)}" has shape {tuple(value.shape)}, expected '
                    f"{shape}"
                )
    if "visual.0" in converted and converted["visual.0"].dim() != 2:
        raise ConversionError(f'"{source_name("visual.0", trainer)}" is not [n_ctx, width]')


def source_name(name, trainer):
    """The authors' key of our tensor ``name``."""
    layout = layout_of(trainer)
    for source, target in layout.singles.items():
        if target == name:
            return source
    for series in layout.series:
        index = series.match(name, series.target)
        if index is not None:
            return series.source.format(index - series.target_first + series.first)
    return name


def implied_options(converted, trainer):
    """The method options under which this repository builds the converted tensors."""
    layout = layout_of(trainer)
    return layout.implied_options(converted, converted[layout.context].shape[0])


def run_states(converted, trainer):
    """The model folders of this repository's run: the learned tensors, and for a method that
    keeps a prompt-average sum (PromptSRC) that sum, which for a finished run equals the
    averaged prompts saved."""
    method = TRAINERS[trainer]
    states = {method.LEARNER_NAME: converted}
    if method.AVERAGE_NAME is not None:
        states[method.AVERAGE_NAME] = {sum_buffer_name(k): v for k, v in converted.items()}
    return states


def folders_help():
    """Where each converted method's authors' run keeps its checkpoints."""
    trainers_in = {}
    for name in sorted(TRAINERS):
        trainers_in.setdefault(layout_of(name).folder, []).append(name)
    return "the authors' checkpoint: " + ", ".join(
        f"<run>/{folder}/model.pth.tar-N ({', '.join(names)})"
        for folder, names in trainers_in.items()
    )


@reports_user_errors
def main(argv=None):
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainer", required=True, choices=sorted(TRAINERS))
    parser.add_argument("--src", required=True, help=folders_help())
    parser.add_argument("--out", required=True, help="run folder to write")
    args = parser.parse_args(argv)
    check_paths(args.src, args.out)
    state, epoch = read_checkpoint(args.src)
    converted = convert_state_dict(state, args.trainer)
    for path in write_run(args.out, run_states(converted, args.trainer), epoch):
        print(f"Wrote {path}")
    node = TRAINERS[args.trainer].METHOD_CFG
    options = " ".join(
        f"TRAINER.{node}.{key} {value}"
        for key, value in implied_options(converted, args.trainer).items()
    )
    rest = layout_of(args.trainer).evaluation_note.format(node=node)
    print(
        f"Evaluate with: python train.py --trainer {args.trainer} --eval-only --model-dir "
        f"{args.out} --load-epoch {epoch} ... {options} ({rest})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
