"""A machine-readable record of each test run, written beside log.txt."""

import hashlib
import json
import os

from yacs.config import CfgNode

from .atomic_files import write_json_atomic

RESULT_FILE = "result.json"
# Where a run reads and writes, not what it computes.
PATH_KEYS = ("OUTPUT_DIR", "DATASET.ROOT", "RESUME")


def _flat(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, CfgNode):
            yield from _flat(value, f"{prefix}{key}.")
        elif f"{prefix}{key}" not in PATH_KEYS:
            yield f"{prefix}{key}", value


def run_settings(cfg):
    """The config as {"SECTION.KEY": value} without its paths, as JSON gives it back."""
    return json.loads(json.dumps(dict(_flat(cfg))))


def config_digest(cfg):
    """Short hash of the settings, to tell runs apart (the same in any output or data folder)."""
    text = json.dumps(run_settings(cfg), sort_keys=True)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def test_result_record(
    cfg, metrics, split, epoch, total=None, correct=None, unreadable=0, clip_weights_digest=None
):
    """``unreadable``: images of the split left out because they cannot be read ("skip" policy);
    ``clip_weights_digest``: prompting.clip_loading.weights_digest of the CLIP the run used."""
    record = {key: float(value) for key, value in metrics.items()}
    record.update(
        total=total,
        correct=correct,
        unreadable_left_out=unreadable,
        dataset=cfg.DATASET.NAME,
        split=split,
        subsample=cfg.DATASET.SUBSAMPLE_CLASSES,
        method=cfg.TRAINER.NAME,
        seed=cfg.SEED,
        num_shots=cfg.DATASET.NUM_SHOTS,
        backbone=cfg.MODEL.BACKBONE.NAME,
        config_digest=config_digest(cfg),
        clip_weights_digest=clip_weights_digest,
        epoch=epoch,
    )
    return record


def write_result_file(output_dir, record):
    """Write atomically, so a reader never sees half a file."""
    os.makedirs(output_dir, exist_ok=True)
    return write_json_atomic(os.path.join(output_dir, RESULT_FILE), record, indent=2)
