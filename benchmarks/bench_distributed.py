"""Training-step time of one global batch split over the processes torchrun starts.

    torchrun --standalone --nproc_per_node 2 benchmarks/bench_distributed.py --arch vit_b16 \\
        --methods SEP CoOp --classes 100 --global-batch 32 128 --json out/distributed_2.json

Each process takes global-batch / processes images and steps as a distributed train.py run does
(run/distributed.py: SEP's coupled steps gather the whole batch, share-weighted losses, summed
gradients). Run it with 1 and with N processes: the scaling is the ratio of the step times.
Random CLIP weights and random images, as bench_trainers.py; rank 0 writes the JSON.
"""

import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

import trainers  # noqa: E402
from benchmarks.measure import median, timed_runs  # noqa: E402
from benchmarks.method_models import (  # noqa: E402
    ARCHITECTURES,
    build_method,
    build_random_clip,
    imagenet_classnames,
    method_cfg,
)
from prompting.prompted_clip import total_loss  # noqa: E402
from run.atomic_files import write_json_atomic  # noqa: E402
from run.distributed import (  # noqa: E402
    close_process_group,
    gather_rows,
    global_loss,
    init_process_group,
    is_distributed,
    rank,
    sum_gradients,
    world_size,
)
from run.precision import backward_and_step  # noqa: E402
from run.tool_cli import (  # noqa: E402
    ToolArgumentParser,
    check_minimums,
    check_output_file,
    reports_user_errors,
)


def default_methods():
    """The methods whose model couples the images of a batch (their step gathers the whole
    batch across processes), then the first trained method, whose step needs no gathering."""
    trained = [trainer for trainer in trainers.TRAINERS if trainer.LEARNER_NAME]
    coupled = [
        trainer.__name__
        for trainer in trained
        if trainer.image_batch_coupling(method_cfg(trainer.__name__, "tiny", "fp32"))
    ]
    return coupled + [trained[0].__name__]


def parse_args(argv=None):
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="vit_b16")
    parser.add_argument("--methods", nargs="+", default=default_methods())
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--global-batch", type=int, nargs="+", default=[32])
    parser.add_argument("--precision", choices=("fp16", "fp32", "amp"), default="fp16")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", help="write the rows here (rank 0)")
    args = parser.parse_args(argv)
    check_minimums(
        ("--classes", args.classes, 1),
        ("--global-batch", args.global_batch, 1),
        ("--steps", args.steps, 1),
        ("--warmup", args.warmup, 0),
    )
    check_output_file("--json", args.json)
    return args


def distributed_step(built, image, label):
    """One step of a distributed train.py run on this process's share ``image``."""
    with built.autocast():
        _, terms = built.model.training_loss(image, label)
        loss = total_loss(terms)
    step_loss, _ = global_loss(loss, len(label)) if is_distributed() else (loss, loss)
    parameters = list(built.model.learnable.parameters())
    synchronize = (lambda: sum_gradients(parameters)) if is_distributed() else None
    backward_and_step(step_loss, built.optimizer, built.scaler, synchronize)


def measure(args, method, global_batch, device):
    processes = world_size()
    if global_batch % processes:
        raise SystemExit(f"--global-batch {global_batch} is not divisible by {processes}")
    cfg = method_cfg(method, args.arch, args.precision)
    clip_model = build_random_clip(args.arch, args.precision, device)
    built = build_method(method, cfg, imagenet_classnames(args.classes), clip_model, device)
    if is_distributed():
        built.model.gather_batch_with(gather_rows)
    built.model.learnable.train()
    resolution = ARCHITECTURES[args.arch]["image_resolution"]
    generator = torch.Generator().manual_seed(rank())
    share = global_batch // processes
    image = torch.randn(share, 3, resolution, resolution, generator=generator).to(device)
    label = torch.randint(args.classes, (share,), generator=generator).to(device)
    seconds = timed_runs(
        lambda: distributed_step(built, image, label), args.steps, args.warmup, device
    )
    step = median(seconds)
    return dict(
        method=method,
        arch=args.arch,
        precision=args.precision,
        classes=args.classes,
        global_batch=global_batch,
        processes=processes,
        step_ms=1000 * step,
        images_per_s=global_batch / step,
    )


def main(argv=None):
    args = parse_args(argv)
    use_cuda = torch.cuda.is_available()
    init_process_group(use_cuda)
    device = torch.device("cuda", torch.cuda.current_device()) if use_cuda else torch.device("cpu")
    main_process = rank() == 0
    try:
        rows = [
            measure(args, method, global_batch, device)
            for method in args.methods
            for global_batch in args.global_batch
        ]
    finally:
        close_process_group()
    if main_process:
        for row in rows:
            print(
                f"{row['method']:>6} batch {row['global_batch']:>4} on {row['processes']} "
                f"process(es): {row['step_ms']:8.1f} ms/step, {row['images_per_s']:8.1f} images/s"
            )
        if args.json:
            os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
            write_json_atomic(args.json, rows, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(reports_user_errors(main)())
