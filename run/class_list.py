"""The class names a run was built for, kept in its folder (``classes.json``, label order).

Prediction (``predict.py``) reads them to name a trained run's own classes without the dataset.
"""

import json
import os

CLASS_LIST_FILE = "classes.json"


def write_class_list(output_dir: str, classnames) -> None:
    """Write ``output_dir/classes.json`` atomically (nothing when ``output_dir`` is unset)."""
    if not output_dir:
        return
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, CLASS_LIST_FILE)
    tmp_path = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp_path, "w", encoding="utf-8") as file:
            json.dump({"classnames": list(classnames)}, file, indent=1)
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def read_class_list(run_dir: str):
    """The run's class names, or None when the run predates ``classes.json``."""
    path = os.path.join(run_dir, CLASS_LIST_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as file:
        return list(json.load(file)["classnames"])
