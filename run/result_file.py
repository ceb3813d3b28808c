"""A machine-readable record of each test run, written beside log.txt."""

import hashlib
import json
import os

RESULT_FILE = "result.json"


def config_digest(cfg):
    """Short hash of the full config, to tell runs with different settings apart."""
    return hashlib.sha1(cfg.dump().encode("utf-8")).hexdigest()[:12]


def test_result_record(cfg, metrics, split, epoch, total=None, correct=None):
    record = {key: float(value) for key, value in metrics.items()}
    record.update(
        total=total,
        correct=correct,
        dataset=cfg.DATASET.NAME,
        split=split,
        subsample=cfg.DATASET.SUBSAMPLE_CLASSES,
        method=cfg.TRAINER.NAME,
        seed=cfg.SEED,
        num_shots=cfg.DATASET.NUM_SHOTS,
        backbone=cfg.MODEL.BACKBONE.NAME,
        config_digest=config_digest(cfg),
        epoch=epoch,
    )
    return record


def write_result_file(output_dir, record):
    """Write atomically, so a reader never sees half a file."""
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, RESULT_FILE)
    tmp_path = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp_path, "w") as f:
            json.dump(record, f, indent=2)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
    return path
