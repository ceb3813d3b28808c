"""train.py command lines on the toy Caltech101 and the tiny CLIP (CPU, fp32, no workers)."""

import io
import json
import os
import sys

import torch

import train

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASET_CONFIG = os.path.join(REPO_ROOT, "configs", "datasets", "caltech101.yaml")
# trainer -> (published config, config node)
TRAINER_CONFIGS = {
    "CoOp": ("CoOp/vit_b16_ep50_ctxv1.yaml", "COOP"),
    "ZeroshotCLIP": ("ZeroshotCLIP/vit_b16.yaml", "ZSCLIP"),
    "SEP": ("SEP/vit_b16_ep50_batch32.yaml", "SEP"),
    "PromptSRC": ("PromptSRC/vit_b16_c2_ep20_batch4_4+4ctx.yaml", "PROMPTSRC"),
    "ProGrad": ("ProGrad/vit_b16_ep100.yaml", "PROGRAD"),
    "TCP": ("TCP/vit_b16_ep100_ctxv1.yaml", "TCP"),
}


def toy_argv(toy, output_dir, *opts, trainer="CoOp", flags=(), epochs=1):
    """train.py arguments for a short run; ``opts`` (yacs options) come last and win."""
    config, node = TRAINER_CONFIGS[trainer]
    return [
        "--root",
        toy.root,
        "--seed",
        "1",
        "--trainer",
        trainer,
        "--dataset-config-file",
        DATASET_CONFIG,
        "--config-file",
        os.path.join(REPO_ROOT, "configs", "trainers", config),
        "--output-dir",
        str(output_dir),
        *flags,
        "MODEL.BACKBONE.NAME",
        toy.tiny_clip_path,
        "INPUT.SIZE",
        "(32, 32)",
        "DATALOADER.NUM_WORKERS",
        "0",
        "DATASET.NUM_SHOTS",
        "2",
        "DATASET.SUBSAMPLE_CLASSES",
        "base",
        "OPTIM.MAX_EPOCH",
        str(epochs),
        f"TRAINER.{node}.PREC",
        "fp32",
        *map(str, opts),
    ]


def train_quietly(argv):
    """train.py's command line in this process, its output captured; returns (status, output)."""
    console = sys.stdout
    sys.stdout = io.StringIO()
    captured = sys.stdout
    try:
        status = train.cli([str(arg) for arg in argv])
    finally:
        log_file = getattr(sys.stdout, "file", None)
        if sys.stdout is not captured and log_file is not None:
            log_file.close()
        sys.stdout = console
    return status, captured.getvalue()


def final_state(output_dir, epoch):
    """(result.json record, weights saved after ``epoch``) of a finished run."""
    with open(os.path.join(output_dir, "result.json")) as f:
        record = json.load(f)
    checkpoint = torch.load(
        os.path.join(output_dir, "prompt_learner", f"model.pth.tar-{epoch}"),
        map_location="cpu",
        weights_only=False,
    )
    return record, checkpoint["state_dict"]


def assert_same_final_state(output_dir, reference_dir, epoch):
    """The two runs ended with the same result.json and bit-identical weights."""
    record, weights = final_state(output_dir, epoch)
    reference_record, reference_weights = final_state(reference_dir, epoch)
    assert record == reference_record
    assert weights.keys() == reference_weights.keys()
    for key in weights:
        assert torch.equal(weights[key], reference_weights[key]), key
