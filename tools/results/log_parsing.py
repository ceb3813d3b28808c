"""Read test metrics from the ``log.txt`` a Dassl-style trainer writes.

A test prints a block such as::

    => result
    * total: 1,000
    * correct: 873
    * accuracy: 87.3%
    * error: 12.7%
    * macro_f1: 86.9%

Metrics are read only after an end-signal line, as CoOp's parser does, so that validation results
printed while training are never taken for the final test result.
"""

import re

# A training run prints one of these lines before its final test: Dassl (CoOp, CoCoOp) the
# first, KgCoOp, MaPLe, PromptSRC and the built-in engine the second (the engine prints both).
TRAIN_END_SIGNALS = ("Finish training", "Finished training")
# An eval-only run (--eval-only) prints no training line; its result header is the signal.
RESULT_HEADER = "=> result"
TEST_END_SIGNALS = (RESULT_HEADER,)

# Metrics that are counts rather than percentages.
COUNT_METRICS = ("total", "correct")

# "* accuracy: 87.3%", "* total: 1,000"; per-class lines ("* class: 3 (dog)\t...") do not match.
# "nan" and "inf" are read too, so that a diverged run is reported as such, not as one without
# a result
_METRIC_LINE = re.compile(
    r"^\* ([\w-]+): ([-+]?(?:[\d,]*\.?\d+(?:[eE][-+]?\d+)?|nan|inf))%?$", re.IGNORECASE
)


def end_signals_for(test_log):
    """The end signals of an eval-only log (``test_log``) or of a training log."""
    return TEST_END_SIGNALS if test_log else TRAIN_END_SIGNALS


def read_result_blocks(lines, end_signals):
    """Metric blocks printed after the first end-signal line, oldest first.

    Each ``=> result`` header opens a block (a dict of metric name -> float); metric lines after
    the signal but before any header form a block of their own. Lines are compared after
    stripping, exactly as CoOp's parser compares its signal.
    """
    blocks = []
    current = None
    signal_seen = False
    for raw_line in lines:
        line = raw_line.strip()
        if not signal_seen:
            signal_seen = line in end_signals
            if not signal_seen:
                continue
        if line == RESULT_HEADER:
            current = {}
            blocks.append(current)
            continue
        match = _METRIC_LINE.match(line)
        if match is None:
            continue
        if current is None:
            current = {}
            blocks.append(current)
        current[match.group(1)] = float(match.group(2).replace(",", ""))
    return blocks


def read_log_blocks(log_path, end_signals):
    with open(log_path, encoding="utf-8", errors="replace") as log_file:
        return read_result_blocks(log_file, end_signals)


def last_block_with(blocks, metric):
    """The last block that reports ``metric`` (a re-test appends a newer block), or None."""
    for block in reversed(blocks):
        if metric in block:
            return block
    return None


def has_end_signal(log_path, end_signals):
    with open(log_path, encoding="utf-8", errors="replace") as log_file:
        return any(line.strip() in end_signals for line in log_file)
