"""Classify images with a trained run (or zero-shot CLIP): top-k classes per image.

    python predict.py --run output/base2new/train_base/mine/shots_16/SEP/world/seed1 photos/
    python predict.py --run RUN --classes "red circle" "blue ring" --top-k 2 a.png 'more/*.png'
    python predict.py --config-file configs/trainers/ZeroshotCLIP/world.yaml \
        --classes-file names.txt photos/ --out answers.csv

Images are files, folders (every image below them) or glob patterns. The classes are the run's
own unless --classes or --classes-file (one name a line) gives others: prompts generalise to
classes never trained on. docs/own_data.md describes it; launch.prediction is the Python API.
"""

import argparse
import contextlib
import os
import sys

import dassl_setup  # noqa: F401  (before any dassl import)

# isort: split
import datasets  # noqa: F401  (registers the datasets, whose config keys runs may carry)
import trainers  # noqa: F401  (registers the trainers and their config nodes)
from launch.prediction import image_paths, load_predictor
from run.disk_errors import disk_write_error, is_write_failure
from run.prediction_output import check_output_path, prediction_line, write_predictions
from run.user_errors import ConfigError, UserError, short_message


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", help="image files, folders or glob patterns")
    parser.add_argument("--run", default="", help="training run folder (none: zero-shot CLIP)")
    names = parser.add_mutually_exclusive_group()
    names.add_argument("--classes", nargs="+", help="class names to choose from")
    names.add_argument("--classes-file", help="file of class names, one a line")
    parser.add_argument("--top-k", type=int, default=5, help="classes shown per image")
    parser.add_argument("--out", default="", help="write the answers to this new .csv or .json")
    parser.add_argument("--config-file", default="", help="zero-shot CLIP's config (or checks)")
    parser.add_argument("--load-epoch", type=int, help="the run's epoch to load (default: last)")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--opts", nargs="+", default=[], help="yacs KEY VALUE pairs")
    return parser.parse_args(argv)


def read_classes_file(path):
    if not os.path.isfile(path):
        raise ConfigError(f"--classes-file {path} does not exist.")
    with open(path, encoding="utf-8") as file:
        return [line.strip() for line in file if line.strip()]


def main(args):
    if args.out:
        check_output_path(args.out)
    classnames = read_classes_file(args.classes_file) if args.classes_file else args.classes
    images = image_paths(args.images)
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the answers only
        predictor = load_predictor(
            args.run,
            config_file=args.config_file,
            opts=args.opts,
            device=args.device,
            load_epoch=args.load_epoch,
        )
        answers, unreadable = predictor.predict(images, classnames, args.top_k)
    for answer in answers:
        print(prediction_line(answer))
    if unreadable:
        print(f"Skipped {unreadable} unreadable images (DATALOADER.CORRUPT_IMAGE_POLICY skip)")
    if args.out:
        details = {
            "run": os.path.abspath(args.run) if args.run else "",
            "method": predictor.cfg.TRAINER.NAME,
            "classes": predictor.classnames_or_own(classnames),
            "unreadable_skipped": unreadable,
        }
        write_predictions(args.out, answers, details)
        print(f"Wrote {len(answers)} answers to {args.out}")


def cli(argv=None):
    """Run predict.py; a user error is one "Error: ..." line (status 2), Ctrl-C one line (130)."""
    args = parse_args(argv)
    try:
        main(args)
    except KeyboardInterrupt:
        print("Interrupted; nothing was written.", file=sys.stderr)
        return 130
    except (UserError, OSError) as error:
        if not isinstance(error, UserError):
            if not is_write_failure(error):
                raise
            error = disk_write_error(getattr(error, "filename", None) or args.out, error)
        print(f"Error: {short_message(error)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
