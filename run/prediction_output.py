"""Prediction results as text lines, CSV or JSON files (written once, never over a file)."""

import csv
import io
import json
import os

from .new_file import write_new_file
from .user_errors import ConfigError

OUTPUT_FORMATS = (".csv", ".json")


def check_output_path(path: str) -> None:
    """Refuse, before any work, an --out that exists or whose format is unknown."""
    if os.path.splitext(path)[1].lower() not in OUTPUT_FORMATS:
        raise ConfigError(f"--out {path}: name a .csv or .json file.")
    if os.path.exists(path):
        raise ConfigError(f"--out {path} already exists; it is never overwritten: give a new name.")


def prediction_line(prediction) -> str:
    top = ", ".join(f"{name} {probability:.1%}" for name, probability in prediction.top)
    return f"{prediction.image}: {top}"


def csv_text(predictions) -> str:
    """One row per image and rank: image, rank (1 = most probable), class, probability."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["image", "rank", "class", "probability"])
    for prediction in predictions:
        for rank, (name, probability) in enumerate(prediction.top, start=1):
            writer.writerow([prediction.image, rank, name, f"{probability:.6f}"])
    return buffer.getvalue()


def json_text(predictions, details: dict) -> str:
    records = [
        {
            "image": prediction.image,
            "top": [{"class": name, "probability": p} for name, p in prediction.top],
        }
        for prediction in predictions
    ]
    return json.dumps({**details, "predictions": records}, indent=1)


def write_predictions(path: str, predictions, details: dict) -> None:
    """``details`` (run, method, classes, unreadable count) go into a JSON file's header."""
    is_json = os.path.splitext(path)[1].lower() == ".json"
    text = json_text(predictions, details) if is_json else csv_text(predictions)
    try:
        write_new_file(path, text)
    except FileExistsError:
        raise ConfigError(f"--out {path} was created meanwhile; it is not overwritten.") from None
