"""Whether the runs averaged into one number belong together: the dataset their result names, and
the options they ran with (``run_options.json``, which train.py writes into every run folder).

Seeds are meant to differ in their seed only; a run of another dataset copied into the folder, or
one started with other options, would turn the mean into a mix of two experiments.
"""

import json
import os

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASET_CONFIG_DIR = os.path.join(REPO_ROOT, "configs", "datasets")
RUN_OPTIONS_FILE = "run_options.json"  # run/run_folder.py
# Options that differ between the seeds of one experiment by design.
PER_SEED_OPTIONS = ("SEED",)


def dataset_name(dataset_folder):
    """DATASET.NAME of the dataset config a folder is named after, or None if there is none."""
    path = os.path.join(DATASET_CONFIG_DIR, f"{dataset_folder}.yaml")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as config_file:
        config = yaml.safe_load(config_file) or {}
    return (config.get("DATASET") or {}).get("NAME")


def run_options(run_dir):
    """The run's options without the per-seed ones, or None (no or unreadable record)."""
    try:
        with open(os.path.join(run_dir, RUN_OPTIONS_FILE), encoding="utf-8") as options_file:
            options = json.load(options_file)
    except (OSError, ValueError):
        return None
    if not isinstance(options, dict):
        return None
    return {key: value for key, value in options.items() if key not in PER_SEED_OPTIONS}


def first_difference(options, reference):
    """``"KEY: a vs b"`` for the first option that differs, or None."""
    for key in sorted(set(options) | set(reference)):
        if options.get(key) != reference.get(key):
            return f"{key}: {options.get(key, '(absent)')!r} vs {reference.get(key, '(absent)')!r}"
    return None
