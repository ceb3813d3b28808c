"""Convert a checkpoint of the authors' IVLP, MaPLe, PromptSRC, ProGrad or TCP code into this
repository's.

The authors' trainers save their whole model, frozen CLIP included, as
``VLPromptLearner/model.pth.tar-<epoch>`` (IVLP, PromptSRC) or
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

import argparse
import os
import re
import sys
from dataclasses import dataclass

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dassl_setup  # noqa: E402,F401  (before anything that imports dassl)
from prompting.prompt_averaging import sum_buffer_name  # noqa: E402
from tools.checkpoint_conversion import (  # noqa: E402
    ConversionError,
    read_checkpoint,
    reports_conversion_errors,
    write_run,
)
from trainers.ivlp import IVLP  # noqa: E402
from trainers.maple import MaPLe  # noqa: E402
from trainers.prograd import ProGrad  # noqa: E402
from trainers.promptsrc import PromptSRC  # noqa: E402
from trainers.tcp import TCP  # noqa: E402

TRAINERS = {trainer.__name__: trainer for trainer in (IVLP, MaPLe, PromptSRC, ProGrad, TCP)}
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
    ``optional`` may be absent) and series of per-block tensors."""

    singles: dict
    series: tuple
    optional: tuple = ()
    context: str = CONTEXT  # our name of the input context


INDEPENDENT = Layout(
    singles={"prompt_learner.ctx": CONTEXT, "image_encoder.VPT": "visual.0"},
    series=(
        # the set replacing the context before text block i is our text.deep.<i - 1>
        Series("text_encoder.transformer.resblocks.{}.VPT_shallow", "text.deep.{}", 1, 0),
        Series("image_encoder.transformer.resblocks.{}.VPT_shallow", "visual.{}", 1, 1),
    ),
    optional=("image_encoder.VPT",),  # no visual prompts (PROMPT_DEPTH_VISION 0)
)
COUPLED = Layout(
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
# ProGrad's and TCP's prompt learners keep our names (the meta-net's layers included)
CONTEXT_ONLY = Layout(singles={"ctx": "ctx"}, series=(), context="ctx")
META_NET = tuple(f"meta_net.linear{i}.{part}" for i in (1, 2) for part in ("weight", "bias"))
CLASS_AWARE = Layout(
    singles={"ctx": "ctx", **{name: name for name in META_NET}}, series=(), context="ctx"
)
LAYOUTS = {
    "IVLP": INDEPENDENT,
    "PromptSRC": INDEPENDENT,
    "MaPLe": COUPLED,
    "ProGrad": CONTEXT_ONLY,
    "TCP": CLASS_AWARE,
}
# Frozen CLIP (the authors' checkpoints hold the whole model; PromptSRC's second image encoder
# included) and the per-class token buffers: not learned, left out. A key naming a prompt is
# never frozen, so a checkpoint of another method is refused instead of half converted.
FROZEN = re.compile(
    r"((image_encoder|text_encoder|prompt_learner\.ZS_image_encoder)\.(?!.*VPT).*"
    r"|logit_scale|(prompt_learner\.)?token_(prefix|suffix))$"
)


def convert_state_dict(state, trainer):
    """Our learnable module's state_dict from the authors' model state_dict; raises
    ConversionError naming the first key that does not fit ``trainer``'s layout."""
    layout = LAYOUTS[trainer]
    converted, found = {}, {series: {} for series in layout.series}
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


def check_shapes(converted, trainer):
    """Text sets ``[n, Dt]`` as the context, visual sets ``[m, Dv]`` alike, MaPLe's coupling
    layers ``Dt -> Dv`` and one per text set."""
    context_name = LAYOUTS[trainer].context
    context = converted[context_name]
    if context.dim() != 2:
        raise ConversionError(
            f'"{source_name(context_name, trainer)}" has shape {tuple(context.shape)}: expected '
            "[n_ctx, width], one context shared by the classes"
        )
    if trainer == "TCP":  # the meta-net makes n_ctx class-aware tokens of the text width
        expected_rows = context.shape[0] * context.shape[1]
        rows = converted["meta_net.linear2.weight"].shape[0]
        if rows != expected_rows:
            raise ConversionError(
                f'"meta_net.linear2.weight" makes {rows} values per class, expected n_ctx x width '
                f"= {expected_rows} for the context's {tuple(context.shape)}"
            )
    expected = {r"text\.deep\.\d+": tuple(context.shape)}
    if "visual.0" in converted:
        expected[r"visual\.\d+"] = tuple(converted["visual.0"].shape)
    elif any(name.startswith("visual.") for name in converted):
        raise ConversionError(
            f'"{source_name("visual.0", trainer)}" is missing (the checkpoint '
            "has deeper visual prompts)"
        )
    if trainer == "MaPLe":
        vision_width = converted["coupling.0.weight"].shape[0]
        expected[r"coupling\.\d+\.weight"] = (vision_width, context.shape[1])
        expected[r"coupling\.\d+\.bias"] = (vision_width,)
        n_sets = 1 + sum(name.startswith("text.deep.") for name in converted)
        for index in range(n_sets + 1):
            for part in ("weight", "bias"):
                name = f"coupling.{index}.{part}"
                if (name in converted) != (index < n_sets):
                    state = "is missing" if index < n_sets else "has no text prompt set"
                    raise ConversionError(
                        f'"{source_name(name, trainer)}" {state}: MaPLe has one coupling layer '
                        "per text prompt set"
                    )
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
    layout = LAYOUTS[trainer]
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
    n_ctx = converted[LAYOUTS[trainer].context].shape[0]
    if trainer in ("ProGrad", "TCP"):
        return {"N_CTX": n_ctx}
    depth = 1 + sum(name.startswith("text.deep.") for name in converted)
    if trainer == "MaPLe":
        return {"N_CTX": n_ctx, "PROMPT_DEPTH": depth}
    options = {"N_CTX_TEXT": n_ctx, "PROMPT_DEPTH_TEXT": depth, "PROMPT_DEPTH_VISION": 0}
    visual = [name for name in converted if name.startswith("visual.")]
    if visual:
        options["N_CTX_VISION"] = converted["visual.0"].shape[0]
        options["PROMPT_DEPTH_VISION"] = len(visual)
    return options


def run_states(converted, trainer):
    """The model folders of this repository's run: the learned tensors, and for PromptSRC its
    prompt-aggregation sum, which for a finished run equals the aggregated prompts saved."""
    states = {TRAINERS[trainer].LEARNER_NAME: converted}
    if trainer == "PromptSRC":
        states[PromptSRC.AVERAGE_NAME] = {sum_buffer_name(k): v for k, v in converted.items()}
    return states


@reports_conversion_errors
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainer", required=True, choices=sorted(LAYOUTS))
    parser.add_argument(
        "--src",
        required=True,
        help="the authors' checkpoint: <run>/VLPromptLearner/model.pth.tar-N (IVLP, PromptSRC), "
        "<run>/MultiModalPromptLearner/model.pth.tar-N (MaPLe) or "
        "<run>/prompt_learner/model.pth.tar-N (ProGrad, TCP)",
    )
    parser.add_argument("--out", required=True, help="run folder to write")
    args = parser.parse_args(argv)
    state, epoch = read_checkpoint(args.src)
    converted = convert_state_dict(state, args.trainer)
    for path in write_run(args.out, run_states(converted, args.trainer), epoch):
        print(f"Wrote {path}")
    node = TRAINERS[args.trainer].METHOD_CFG
    options = " ".join(
        f"TRAINER.{node}.{key} {value}"
        for key, value in implied_options(converted, args.trainer).items()
    )
    rest = (
        "with the published config, whose other options build the authors' prompts"
        if args.trainer in ("ProGrad", "TCP")
        else f"and TRAINER.{node}.CTX_INIT as in the authors' run; their configs use "
        '"a photo of a"'
    )
    print(
        f"Evaluate with: python train.py --trainer {args.trainer} --eval-only --model-dir "
        f"{args.out} --load-epoch {epoch} ... {options} ({rest})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
