"""Training-step time, evaluation throughput and peak memory of each method, and of SEP variants.

    python benchmarks/bench_trainers.py --arch tiny --classes 10 100 1000 --batch-size 8 \
        --precision fp32 --device cpu --steps 5 --warmup 2 --json out.json

Every figure is also given as a ratio to CoOp measured in the same run (same CLIP, classes,
batch and device), and each SEP variant as a ratio to SEP's default
(``benchmarks/straightforward.py``).
CLIP has random weights (``--arch tiny`` or ``vit_b16`` shapes); the models are those the
trainers build, stepped as ``PromptTrainer.forward_backward`` steps them, on random images.
See benchmarks/README.md for what each figure means and the recorded results.
"""

import contextlib
import datetime
import functools
import os
import platform
import sys
import time

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

import trainers  # noqa: E402  (sets up Dassl itself)
from benchmarks.measure import MemoryMeter, median, synchronize, timed_runs  # noqa: E402
from benchmarks.method_models import (  # noqa: E402
    ARCHITECTURES,
    DATASET_NAME,
    METHODS,
    build_method,
    build_random_clip,
    clip_dtype_key,
    imagenet_classnames,
    method_cfg,
    set_mode,
    train_step,
)
from benchmarks.report import (  # noqa: E402
    REFERENCE_METHOD,
    add_ratios,
    breakdown_table,
    methods_table,
    variants_table,
)
from benchmarks.straightforward import VARIANTS, VARIED_METHOD  # noqa: E402
from run.atomic_files import write_json_atomic  # noqa: E402
from run.tool_cli import (  # noqa: E402
    ToolArgumentParser,
    check_minimums,
    check_output_file,
    check_seed,
    refuse,
    reports_user_errors,
)

DEFAULT_METHODS = tuple(t.__name__ for t in trainers.TRAINERS if t.IN_DEFAULT_BENCHMARK)
ATTENTION_OP_WORDS = ("attention", "softmax", "bmm")


def parse_args(argv=None):
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="tiny")
    parser.add_argument("--classes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--batch-size", type=int, nargs="+", default=[8])
    parser.add_argument(
        "--eval-batch-size",
        type=int,
        default=None,
        help="images per evaluation batch (default: the training batch size)",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "fp16", "amp"),
        default="fp32",
        help="PREC of every method (fp16 runs as fp32 on a CPU, as in the trainers)",
    )
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default=None, help="default: cuda when available"
    )
    parser.add_argument(
        "--methods", nargs="+", choices=sorted(METHODS), default=list(DEFAULT_METHODS)
    )
    parser.add_argument(
        "--variants",
        nargs="*",
        default=["all"],
        help=f"{VARIED_METHOD} variants: all, none or some of {', '.join(VARIANTS)}",
    )
    parser.add_argument("--steps", type=int, default=5, help="timed steps (median reported)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before timing")
    parser.add_argument(
        "--eval-steps", type=int, default=None, help="timed evaluation batches (default: --steps)"
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time the parts of SEP's step (frozen image pass, prompted "
        "image pass, text pass)",
    )
    parser.add_argument(
        "--no-attention-check",
        action="store_true",
        help="skip profiling which attention kernels SEP's step dispatches to",
    )
    parser.add_argument("--json", default=None, help="write the results here (rewritten per row)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's); 1 is steadier on a shared machine",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    check_minimums(
        ("--classes", args.classes, 1),
        ("--batch-size", args.batch_size, 1),
        ("--eval-batch-size", args.eval_batch_size, 1),
        ("--steps", args.steps, 1),
        ("--warmup", args.warmup, 0),
        ("--eval-steps", args.eval_steps, 1),
        ("--threads", args.threads, 1),
    )
    check_seed(args.seed)
    check_output_file("--json", args.json)
    refuse(
        args.device == "cuda" and not torch.cuda.is_available(),
        "--device cuda, but torch sees no CUDA device: use --device cpu",
    )
    if args.device is None:
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    args.eval_steps = args.eval_steps or args.steps
    return args


def selected_variants(args, device):
    names = (
        list(VARIANTS) if args.variants == ["all"] else [v for v in args.variants if v != "none"]
    )
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        raise SystemExit(f"Unknown --variants {unknown}; choose from {list(VARIANTS)}")
    if VARIED_METHOD not in args.methods:
        return []
    run_precision = args.precision if device.type == "cuda" or args.precision != "fp16" else "fp32"
    chosen = []
    for name in names:
        variant = VARIANTS[name]
        if variant.precision == run_precision:
            continue  # that is SEP's default row
        if variant.precision == "fp16" and device.type != "cuda":
            continue  # fp16 weights are a GPU mode
        chosen.append(variant)
    return chosen


def attention_ops(built, image, label):
    """Names of the attention-related ops one training step dispatches (profiler, CPU side)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train_step(built, image, label)
    names = {event.key for event in prof.key_averages()}
    return sorted(n for n in names if any(word in n.lower() for word in ATTENTION_OP_WORDS))


def evaluation_timings(built, image, cache_text, steps, warmup):
    """(seconds to compute text features once, seconds per timed evaluation batch)."""
    model, device = built.model, built.device
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.no_grad())
        stack.enter_context(built.autocast())
        synchronize(device)
        begin = time.perf_counter()
        if cache_text:
            stack.enter_context(model.cached_text_features())
        synchronize(device)
        text_seconds = time.perf_counter() - begin
        batch_seconds = timed_runs(lambda: model(image), steps, warmup, device)
    return (text_seconds if cache_text else None), batch_seconds


def sep_breakdown(built, image, label, args):
    """Median ms of the parts of SEP's step, each run on its own, and the full step."""
    model, device = built.model, built.device
    frozen = model.frozen_image_features(image)
    parts = {}

    def frozen_image():
        with built.autocast():
            model.frozen_image_features(image)

    def prompted_image():
        with built.autocast():
            features = model.prompted_image_encoder(image)
        features.float().square().sum().backward()

    def prompted_text():
        with built.autocast():
            features = model.compute_text_features()
        features.float().square().sum().backward()

    def full_step():
        train_step(built, image, label)

    for name, function in (
        ("frozen_image_forward", frozen_image),
        ("prompted_image_forward_backward", prompted_image),
        ("prompted_text_forward_backward", prompted_text),
        ("full_step", full_step),
    ):
        parts[name] = 1000 * median(timed_runs(function, args.steps, args.warmup, device))
    parts.update(fusion_and_selection_ms(built, image, label))
    built.optimizer.zero_grad()
    return {"parts_ms": parts, "frozen_image_features_keep_graph": bool(frozen.requires_grad)}


def fusion_and_selection_ms(built, image, label):
    """Forward time of all TFMs and of the visual token scoring in one step (profiler ranges;
    device time on CUDA, CPU time, profiler overhead included, on a CPU)."""
    from torch.profiler import ProfilerActivity, profile, record_function

    from prompting.sep import prompted_encoders, token_fusion

    def labelled(function, name):
        def wrapper(*args, **kwargs):
            with record_function(name):
                return function(*args, **kwargs)

        return wrapper

    fusion_forward = token_fusion.TokenFusion.forward
    selection = prompted_encoders.visual_representative_tokens
    activities = [ProfilerActivity.CPU]
    if built.device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    token_fusion.TokenFusion.forward = labelled(fusion_forward, "sep::token_fusion")
    prompted_encoders.visual_representative_tokens = labelled(selection, "sep::token_selection")
    try:
        with profile(activities=activities) as prof:
            train_step(built, image, label)
            synchronize(built.device)
    finally:
        token_fusion.TokenFusion.forward = fusion_forward
        prompted_encoders.visual_representative_tokens = selection
    totals = {event.key: event for event in prof.key_averages()}
    time_attribute = "device_time_total" if built.device.type == "cuda" else "cpu_time_total"
    return {
        f"{name}_forward (profiled)": getattr(totals[label], time_attribute) / 1000
        if label in totals
        else None
        for name, label in (
            ("token_fusion", "sep::token_fusion"),
            ("visual_token_selection", "sep::token_selection"),
        )
    }


def diagnostic(function, *args):
    """An optional measurement: its failure is reported in the results, not fatal to the run."""
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001  (a diagnostic must not end the benchmark)
        return [f"failed: {type(error).__name__}: {error}"]


def measure_row(method, variant, context, args):
    """One row: build the model, time training steps and evaluation, read peak memory."""
    device, meter = context["device"], context["meter"]
    precision = variant.precision if variant is not None and variant.precision else args.precision
    clip_model = context["clip_for"](precision)
    classnames, image, label, eval_image = (
        context[key] for key in ("classnames", "image", "label", "eval_image")
    )
    row = {
        "method": method,
        "variant": variant.name if variant else None,
        "classes": len(classnames),
        "batch_size": len(image),
        "eval_batch_size": len(eval_image),
    }
    overrides = variant.cfg_overrides if variant is not None else ()
    cfg = method_cfg(method, args.arch, precision, overrides)
    meter.baseline()
    patched = variant.patched() if variant is not None else contextlib.nullcontext()
    with patched:
        built = build_method(method, cfg, classnames, clip_model, device)
        if variant is not None and variant.adapt is not None:
            variant.adapt(built.model, clip_model, classnames, DATASET_NAME)
        row["precision"] = built.precision
        row["trained_parameters"] = built.trained_parameters
        if built.optimizer is not None:
            set_mode(built, True)
            with meter.phase({}) as memory:
                seconds = timed_runs(
                    functools.partial(train_step, built, image, label),
                    args.steps,
                    args.warmup,
                    device,
                )
            row["train_step_ms"] = 1000 * median(seconds)
            row["train_step_ms_each"] = [1000 * s for s in seconds]
            row["train_peak_mib"] = memory["peak_mib"]
            if "peak_total_mib" in memory:
                row["train_peak_total_mib"] = memory["peak_total_mib"]
            check = (
                method == VARIED_METHOD
                and not args.no_attention_check
                and (variant is None or variant.name == "explicit_attention")
            )
            if check:
                row["attention_ops"] = diagnostic(attention_ops, built, image, label)
            if method == VARIED_METHOD and variant is None and args.breakdown:
                parts = diagnostic(sep_breakdown, built, image, label, args)
                if isinstance(parts, dict):
                    context["breakdowns"].append(
                        {"classes": row["classes"], "batch_size": row["batch_size"], **parts}
                    )
        set_mode(built, False)
        cache_text = variant.cache_text_in_eval if variant is not None else True
        with meter.phase({}) as memory:
            text_seconds, batch_seconds = evaluation_timings(
                built, eval_image, cache_text, args.eval_steps, args.warmup
            )
        row["text_features_ms"] = None if text_seconds is None else 1000 * text_seconds
        row["eval_batch_ms"] = 1000 * median(batch_seconds)
        row["eval_images_per_s"] = len(eval_image) / median(batch_seconds)
        row["eval_peak_mib"] = memory["peak_mib"]
        if "peak_total_mib" in memory:
            row["eval_peak_total_mib"] = memory["peak_total_mib"]
    del built
    meter.release()
    return row


def run_metadata(args, device, meter):
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "device": device.type,
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or "cpu",
        "memory_method": meter.method,
        "arch": args.arch,
        "args": vars(args),
        "variants": {name: variant.about for name, variant in VARIANTS.items()},
    }
    return meta


def write_json(path, report):
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        write_json_atomic(path, report, indent=2)


def run(args):
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    meter = MemoryMeter(device)
    clips = {}

    def clip_for(precision):
        key = clip_dtype_key(precision)
        if key not in clips:
            clips[key] = build_random_clip(args.arch, precision, device)
        return clips[key]

    resolution = ARCHITECTURES[args.arch]["image_resolution"]
    report = {"meta": run_metadata(args, device, meter), "results": [], "breakdown": []}
    variants = selected_variants(args, device)
    for n_classes in args.classes:
        classnames = imagenet_classnames(n_classes)
        for batch_size in args.batch_size:
            generator = torch.Generator().manual_seed(args.seed)
            eval_batch = args.eval_batch_size or batch_size
            context = {
                "device": device,
                "meter": meter,
                "clip_for": clip_for,
                "classnames": classnames,
                "breakdowns": report["breakdown"],
                "image": torch.randn(batch_size, 3, resolution, resolution, generator=generator).to(
                    device
                ),
                "label": torch.randint(n_classes, (batch_size,), generator=generator).to(device),
                "eval_image": torch.randn(
                    eval_batch, 3, resolution, resolution, generator=generator
                ).to(device),
            }
            jobs = [(method, None) for method in args.methods]
            jobs += [(VARIED_METHOD, variant) for variant in variants]
            for method, variant in jobs:
                label = method if variant is None else f"{method}[{variant.name}]"
                print(f"[bench] {n_classes} classes, batch {batch_size}: {label}", flush=True)
                try:
                    row = measure_row(method, variant, context, args)
                except Exception as error:  # noqa: BLE001  (e.g. out of memory: go on)
                    meter.release()
                    kind = (
                        "out of memory"
                        if isinstance(error, torch.cuda.OutOfMemoryError)
                        else type(error).__name__
                    )
                    print(f"[bench] {label} failed: {kind}: {str(error)[:200]}", flush=True)
                    row = {
                        "method": method,
                        "variant": variant.name if variant else None,
                        "classes": n_classes,
                        "batch_size": batch_size,
                        "precision": args.precision,
                        "error": f"{kind}: {str(error)[:80]}",
                    }
                report["results"].append(row)
                add_ratios(report["results"])
                write_json(args.json, report)
    return report


def main(argv=None):
    args = parse_args(argv)
    report = run(args)
    meta = report["meta"]
    print(
        f"\n{meta['date']}  torch {meta['torch']}  {meta['device_name']} "
        f"({meta['cpu_count']} CPUs, {meta['torch_threads']} threads)  arch {args.arch}  "
        f"memory: {meta['memory_method']}"
    )
    print(f"\nMethods (ratios: method / {REFERENCE_METHOD}, same run)")
    print(methods_table(report["results"]))
    if any(row["method"] == VARIED_METHOD and row["variant"] for row in report["results"]):
        print(f"\n{VARIED_METHOD} variants (ratios: variant / {VARIED_METHOD} default, same run)")
        print(variants_table(report["results"]))
        for name, about in meta["variants"].items():
            if any(row["variant"] == name for row in report["results"]):
                print(f"  {name}: {about}")
    ops = {
        row["variant"] or "default": row["attention_ops"]
        for row in report["results"]
        if "attention_ops" in row
    }
    for name, names in ops.items():
        print(f"\nAttention ops of {VARIED_METHOD}[{name}]'s step: {', '.join(names)}")
    if report["breakdown"]:
        print(f"\n{VARIED_METHOD}'s step, part by part (each part timed on its own)")
        print(breakdown_table(report["breakdown"]))
        keeps = {entry["frozen_image_features_keep_graph"] for entry in report["breakdown"]}
        print(f"frozen image features keep an autograd graph: {sorted(keeps)}")
    if args.json:
        print(f"\nWrote {args.json}")
    return report


@reports_user_errors
def cli(argv=None):
    main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(cli())
