"""Runs of every method on a user's image folder (the toy Caltech101's images, tiny CLIP), trained
once per test session through train.py's command line."""

import json
import os
import shutil

import trainers
from tests.reliability.train_args import train_quietly
from trainers import tiny_depth_options

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METHODS = trainers.method_table()  # trainer -> (config node, published config)
TEST_BATCH_SIZE = 5


class OwnRuns:
    """``run(method, *opts)``: the folder of a finished run of ``method`` on the base classes."""

    def __init__(self, toy, folder):
        self.toy = toy
        self.folder = str(folder)
        self.data_root = os.path.join(self.folder, "data")
        shutil.copytree(
            os.path.join(toy.root, "caltech-101", "101_ObjectCategories"),
            os.path.join(self.data_root, "shapes"),
        )
        self.dataset_config = os.path.join(self.folder, "shapes.yaml")
        with open(self.dataset_config, "w") as file:
            file.write('DATASET:\n  NAME: "ImageFolder"\n  OWN:\n    PATH: "shapes"\n')
        self.runs = {}

    def options(self, method, *opts):
        node, _ = METHODS[method]
        return [
            "MODEL.BACKBONE.NAME",
            self.toy.tiny_clip_path,
            "INPUT.SIZE",
            "(32, 32)",
            "DATALOADER.NUM_WORKERS",
            0,
            "DATALOADER.TRAIN_X.BATCH_SIZE",
            4,
            "DATALOADER.TEST.BATCH_SIZE",
            TEST_BATCH_SIZE,
            "DATASET.NUM_SHOTS",
            2,
            "DATASET.SUBSAMPLE_CLASSES",
            "base",
            "OPTIM.MAX_EPOCH",
            1,
            "OPTIM.WARMUP_EPOCH",
            0,
            f"TRAINER.{node}.PREC",
            "fp32",
            *tiny_depth_options(method),
            *opts,
        ]

    def run(self, method, *opts):
        key = (method, *map(str, opts))
        if key not in self.runs:
            output_dir = os.path.join(self.folder, "runs", f"{method}-{len(self.runs)}")
            status, out = train_quietly(
                [
                    "--root",
                    self.data_root,
                    "--seed",
                    1,
                    "--trainer",
                    method,
                    "--dataset-config-file",
                    self.dataset_config,
                    "--config-file",
                    os.path.join(REPO_ROOT, "configs", "trainers", METHODS[method][1]),
                    "--output-dir",
                    output_dir,
                    *self.options(method, *opts),
                ]
            )
            assert status == 0, out[-2000:]
            self.runs[key] = output_dir
        return self.runs[key]


def result(run_dir):
    with open(os.path.join(run_dir, "result.json")) as file:
        return json.load(file)
