"""Prediction's accuracy on a run's test images next to the evaluation protocol's (result.json).

    python tools/prediction_vs_evaluation.py --root $DATA \
        output/base2new/test_new/world_tint/shots_16/SEP/world/seed1 [--model-dir <train run>]

The evaluated folder's options name the dataset, its classes (base or new) and the split; its
result.json holds the evaluation's accuracy. predict.py's code path (``launch.prediction``) then
classifies the same test images in one call, and the two accuracies are printed. For a method
that couples the images of a batch (SEP's default), the difference is the cost of answering each
image on its own (docs/own_data.md). Loading messages go to stderr, the result to stdout.
"""

import argparse
import contextlib
import json
import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dassl_setup  # noqa: E402,F401  (before any dassl import)

# isort: split
import torch  # noqa: E402
from dassl.data.datasets import DATASET_REGISTRY  # noqa: E402

import datasets  # noqa: E402,F401  (registers the datasets)
import trainers  # noqa: E402,F401  (registers the trainers)
from launch.prediction import load_predictor  # noqa: E402
from launch.run_loading import config_of_run, read_run_options  # noqa: E402
from run.result_file import RESULT_FILE  # noqa: E402
from run.run_folder import MODE_KEY, RUN_OPTIONS_FILE  # noqa: E402


def evaluated_options(folder):
    """The run options of ``folder``, training or evaluation."""
    with open(os.path.join(folder, RUN_OPTIONS_FILE), encoding="utf-8") as file:
        return json.load(file)


def compare(evaluated_dir, root, model_dir=""):
    """Both accuracies (in %) and correct counts of the test images of ``evaluated_dir``."""
    options = evaluated_options(evaluated_dir)
    model_dir = model_dir or evaluated_dir
    read_run_options(model_dir)  # refuses a folder without weights
    cfg = config_of_run({key: value for key, value in options.items() if key != MODE_KEY})
    cfg.DATASET.ROOT = root
    cfg.freeze()
    dataset = DATASET_REGISTRY.get(cfg.DATASET.NAME)(cfg)
    test = dataset.test
    with open(os.path.join(evaluated_dir, RESULT_FILE), encoding="utf-8") as file:
        evaluation = json.load(file)["accuracy"]
    predictor = load_predictor(model_dir)
    logits, kept, _ = predictor.logits([item.impath for item in test], dataset.classnames)
    labels = torch.tensor([test[index].label for index in kept])
    predicted = logits.argmax(dim=-1)
    correct = int((predicted == labels).sum())
    return {
        "evaluation": evaluation,
        "prediction": 100.0 * correct / len(test),
        "total": len(test),
        "evaluation_correct": evaluation * len(test) / 100.0,
        "prediction_correct": correct,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evaluated", help="a run folder with a result.json")
    parser.add_argument("--root", required=True, help="DATASET.ROOT of the evaluation")
    parser.add_argument("--model-dir", default="", help="training run (default: the folder)")
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(sys.stderr):
        numbers = compare(args.evaluated, args.root, args.model_dir)
    print(
        f"{args.evaluated}: evaluation {numbers['evaluation']:.2f}%, prediction "
        f"{numbers['prediction']:.2f}% ({numbers['prediction_correct']} of {numbers['total']}), "
        f"difference {numbers['prediction'] - numbers['evaluation']:+.2f} points"
    )


if __name__ == "__main__":
    main()
