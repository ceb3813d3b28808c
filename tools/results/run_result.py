"""The final test result of one run directory: ``result.json`` if usable, else ``log.txt``.

``result.json`` carries full precision and describes the run (split, subsample, seed, backbone);
the log prints one decimal. Only ``log.txt`` is read, never a time-suffixed sibling
(``log.txt-2026-...``) left by a re-run.
"""

import json
import math
import os
from dataclasses import dataclass, field

from tools.results.log_parsing import has_end_signal, last_block_with, read_log_blocks

RESULT_FILE = "result.json"
LOG_FILE = "log.txt"
# The log prints "* error:", Dassl's evaluator returns (and result.json stores) "error_rate".
_JSON_KEY_ALIASES = {"error": "error_rate", "error_rate": "error"}


@dataclass(frozen=True)
class RunResult:
    run_dir: str
    metrics: dict  # name -> float; percentages in percent, counts as numbers
    source: str  # path of the file the numbers came from
    info: dict = field(default_factory=dict)  # non-numeric result.json fields (backbone, ...)


def _read_result_json(json_path):
    """The parsed result.json as a dict, or an error message."""
    try:
        with open(json_path, encoding="utf-8") as json_file:
            content = json.load(json_file)
    except (OSError, ValueError) as error:
        return None, f"unreadable {json_path} ({error}); using {LOG_FILE}"
    if not isinstance(content, dict):
        return None, f"{json_path} is not a JSON object; using {LOG_FILE}"
    return content, None


def _numbers_and_info(content):
    metrics, info = {}, {}
    for key, value in content.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[key] = float(value)
        else:
            info[key] = value
    return metrics, info


def _finite(result, metric, problems):
    """``result``, or None with a problem when its ``metric`` is NaN or infinite."""
    value = result.metrics[metric]
    if math.isfinite(value):
        return result
    problems.append(f"{result.source}: {metric} is {value} (a diverged run?); left out")
    return None


def load_run_result(run_dir, end_signals, metric="accuracy", expected=None):
    """Read the final test result of ``run_dir``.

    ``expected`` maps result.json fields to the values this directory must have (e.g.
    ``{"subsample": "new", "seed": 2}``); a result.json that contradicts it is rejected, since the
    directory then holds another run's numbers. Returns ``(RunResult or None, problems)`` where
    ``problems`` lists human-readable reasons for falling back or for finding nothing.
    """
    problems = []
    json_path = os.path.join(run_dir, RESULT_FILE)
    if os.path.isfile(json_path):
        content, error = _read_result_json(json_path)
        if error:
            problems.append(error)
        elif content.get("split", "test") != "test":
            problems.append(f"{json_path} holds a '{content['split']}' result; using {LOG_FILE}")
        else:
            mismatches = [
                f"{key}={content[key]!r} (expected {value!r})"
                for key, value in (expected or {}).items()
                if key in content and content[key] != value
            ]
            if mismatches:
                problems.append(f"{json_path} does not belong here: " + ", ".join(mismatches))
                return None, problems
            metrics, info = _numbers_and_info(content)
            alias = _JSON_KEY_ALIASES.get(metric)
            if metric not in metrics and alias in metrics:
                metrics[metric] = metrics[alias]
            if metric in metrics:
                return _finite(
                    RunResult(run_dir, metrics, json_path, info), metric, problems
                ), problems
            problems.append(f"{json_path} has no '{metric}'; using {LOG_FILE}")

    log_path = os.path.join(run_dir, LOG_FILE)
    if not os.path.isfile(log_path):
        problems.append(f"no {RESULT_FILE} and no {LOG_FILE} in {run_dir}")
        return None, problems
    block = last_block_with(read_log_blocks(log_path, end_signals), metric)
    if block is None:
        if not has_end_signal(log_path, end_signals):
            signals = " / ".join(f"'{signal}'" for signal in end_signals)
            problems.append(f"{log_path}: no {signals} line (unfinished run?)")
        else:
            problems.append(f"{log_path}: no '* {metric}:' line after the end signal")
        return None, problems
    return _finite(RunResult(run_dir, dict(block), log_path), metric, problems), problems
