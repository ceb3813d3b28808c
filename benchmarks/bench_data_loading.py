"""Images per second of the training loader: the configs' transforms on generated JPEGs.

    python benchmarks/bench_data_loading.py --images 256 --batch-size 32 --workers 0 2 \
        --json data_loading.json

Writes ``--images`` JPEGs of ``--size`` pixels (ImageNet photos average about 400x350) to a
temporary folder, then runs Dassl's training loader (``build_data_loader`` with the transform
``build_transform(cfg, is_train=True)`` of a trainer config: random_resized_crop, random_flip,
normalize, bicubic 224) for each worker count, and reports images/s once the workers have
started (their start-up is reported apart, as ``first_batch_s``).
"""

import contextlib
import datetime
import io
import os
import statistics
import sys
import tempfile
import time

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from dassl.data.data_manager import build_data_loader  # noqa: E402
from dassl.data.datasets import Datum  # noqa: E402
from dassl.data.transforms import build_transform  # noqa: E402
from PIL import Image  # noqa: E402
from tabulate import tabulate  # noqa: E402

import dassl_setup  # noqa: E402,F401  (before any dassl import)
import trainers  # noqa: E402,F401  (registers the trainers' config nodes)
from run.atomic_files import write_json_atomic  # noqa: E402
from run.config import project_cfg_default  # noqa: E402
from run.tool_cli import (  # noqa: E402
    ToolArgumentParser,
    check_minimums,
    check_output_file,
    refuse,
    reports_user_errors,
)
from tools.make_toy_data import TOY_CLASSES, draw_toy_image  # noqa: E402
from trainers.sep import SEP  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(REPO_ROOT, "configs", "trainers", SEP.__name__, SEP.PUBLISHED_CONFIG)


def write_jpegs(folder, n_images, size, seed=0):
    """``n_images`` JPEGs (quality 90) of coloured shapes on noise, as Datum items."""
    rng = np.random.default_rng(seed)
    width, height = size
    items = []
    for index in range(n_images):
        label = index % len(TOY_CLASSES)
        classname, colour, shape = TOY_CLASSES[label]
        pixels = draw_toy_image(rng, colour, shape, max(width, height))[:height, :width]
        path = os.path.join(folder, f"{index:05d}.jpg")
        Image.fromarray(pixels).save(path, format="JPEG", quality=90)
        items.append(Datum(impath=path, label=label, classname=classname))
    return items


def loader_cfg(config_file, workers):
    cfg = project_cfg_default()
    cfg.merge_from_file(config_file)
    cfg.merge_from_list(["DATALOADER.NUM_WORKERS", workers])
    cfg.freeze()
    return cfg


def measure_loader(items, config_file, batch_size, workers, batches, repeats=1):
    """Start-up time (first batch) and images/s over up to ``batches`` further batches; with
    ``repeats`` the loader runs that often and the median rate is reported (each rate kept)."""
    runs = [_one_pass(items, config_file, batch_size, workers, batches) for _ in range(repeats)]
    rates = [run["images_per_s"] for run in runs if run["images_per_s"]]
    result = dict(runs[0])
    result["images_per_s"] = statistics.median(rates) if rates else None
    result["images_per_s_each"] = [run["images_per_s"] for run in runs]
    result["first_batch_s"] = statistics.median(run["first_batch_s"] for run in runs)
    return result


def _one_pass(items, config_file, batch_size, workers, batches):
    cfg = loader_cfg(config_file, workers)
    with contextlib.redirect_stdout(io.StringIO()):  # the transform builder's messages
        transform = build_transform(cfg, is_train=True)
    loader = build_data_loader(
        cfg,
        sampler_type=cfg.DATALOADER.TRAIN_X.SAMPLER,
        data_source=items,
        batch_size=batch_size,
        tfm=transform,
        is_train=True,
    )
    start = time.perf_counter()
    iterator = iter(loader)
    first = next(iterator)
    first_batch_s = time.perf_counter() - start
    n_images, start = 0, time.perf_counter()
    for _, batch in zip(range(batches), iterator):
        n_images += len(batch["img"])
    seconds = time.perf_counter() - start
    del iterator
    return {
        "workers": workers,
        "batch_size": batch_size,
        "image_shape": list(first["img"].shape[1:]),
        "first_batch_s": first_batch_s,
        "timed_images": n_images,
        "images_per_s": n_images / seconds if n_images else None,
    }


def parse_args(argv=None):
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256, help="JPEGs to generate")
    parser.add_argument("--size", type=int, nargs=2, default=[400, 350], metavar=("W", "H"))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="passes per worker count; the median rate is reported",
    )
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="trainer config with INPUT.*")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    check_minimums(
        ("--images", args.images, 1),
        ("--size", args.size, 1),
        ("--batch-size", args.batch_size, 1),
        ("--workers", args.workers, 0),
        ("--repeats", args.repeats, 1),
    )
    refuse(not os.path.isfile(args.config), f'--config "{args.config}" is not a file')
    check_output_file("--json", args.json)
    return args


def main(argv=None):
    args = parse_args(argv)
    batches = max(args.images // args.batch_size - 1, 1)  # one epoch after the first batch
    with tempfile.TemporaryDirectory(prefix="bench_jpegs_") as folder:
        items = write_jpegs(folder, args.images, args.size)
        rows = [
            measure_loader(items, args.config, args.batch_size, workers, batches, args.repeats)
            for workers in args.workers
        ]
    report = {
        "meta": {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
            "config": os.path.relpath(args.config, REPO_ROOT),
            "image_size": args.size,
            "images": args.images,
            "repeats": args.repeats,
            "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },
        "results": rows,
    }
    print(
        tabulate(
            [
                [
                    r["workers"],
                    r["batch_size"],
                    "x".join(map(str, r["image_shape"])),
                    f"{r['first_batch_s']:.2f}",
                    f"{r['images_per_s']:.1f}" if r["images_per_s"] else "-",
                ]
                for r in rows
            ],
            headers=["workers", "batch", "output", "first batch s", "images/s (median)"],
            disable_numparse=True,
        )
    )
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        write_json_atomic(args.json, report, indent=2)
        print(f"Wrote {args.json}")
    return report


@reports_user_errors
def cli(argv=None):
    main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(cli())
