"""Mean and spread of a test metric over the seeds of one experiment, from the runs' log.txt.

Works like CoOp's ``parse_test_res.py`` (same arguments, same summary line)::

    python parse_test_res.py output/base2new/train_base/dtd/shots_16/CoOp/vit_b16_ep50_ctxv1
    python parse_test_res.py --test-log \
        output/base2new/test_new/dtd/shots_16/CoOp/vit_b16_ep50_ctxv1
    python parse_test_res.py output/few_shot/caltech101/shots_16/CoOp --multi-exp
    python parse_test_res.py DIR --ci95 --keyword macro_f1

DIR holds one folder per run (``seed1/``, ``seed2/``, ...; if there is no ``seed*`` folder, every
subfolder is a run). A training log is read after its "Finish training" or "Finished training"
line, an eval-only log (``--test-log``) after "=> result"; the last result printed counts.
The spread is the standard deviation over seeds (numpy's, ddof=0, as CoOp) or, with --ci95,
1.96 * std / sqrt(n). A run whose value is NaN or infinite, or whose ``run_options.json`` differs
from the first run's in more than its seed, is skipped with the reason, never averaged in.
"""

import math
import os
import sys

import numpy as np

from run.tool_cli import ToolArgumentParser, refuse, reports_user_errors
from tools.results.log_parsing import (
    COUNT_METRICS,
    end_signals_for,
    last_block_with,
    read_log_blocks,
)
from tools.results.run_consistency import first_difference, run_options
from tools.results.run_discovery import list_experiment_dirs, list_run_dirs
from tools.results.run_result import LOG_FILE, RESULT_FILE, load_run_result


def compute_ci95(values):
    """Half-width of the normal-approximation 95% confidence interval of the mean."""
    return 1.96 * np.std(values) / np.sqrt(len(values))


def _unit(keyword):
    return "" if keyword in COUNT_METRICS else "%"


def _read_run(run_dir, args, end_signals):
    """The keyword's value in one run directory and the file it came from, or a reason."""
    if args.use_json:
        result, problems = load_run_result(run_dir, end_signals, args.keyword)
        if result is None:
            return None, None, "; ".join(problems)
        return result.metrics[args.keyword], result.source, None
    log_path = os.path.join(run_dir, LOG_FILE)
    if not os.path.isfile(log_path):
        return None, None, f"no {LOG_FILE}"
    block = last_block_with(read_log_blocks(log_path, end_signals), args.keyword)
    if block is None:
        signals = " or ".join(f"'{signal}'" for signal in end_signals)
        hint = "" if args.test_log else " (an eval-only run? use --test-log)"
        return None, None, f"no '* {args.keyword}:' line after {signals}{hint}"
    if not math.isfinite(block[args.keyword]):
        return None, None, f"{args.keyword} is {block[args.keyword]} (a diverged run?)"
    return block[args.keyword], log_path, None


def _options_problem(run_dir, reference):
    """Why ``run_dir`` does not belong with the ``reference`` run (None if it does); the first
    run with recorded options becomes the reference."""
    options = run_options(run_dir)
    if options is None:
        return None
    if not reference:
        reference.update(run_dir=run_dir, options=options)
        return None
    difference = first_difference(options, reference["options"])
    if difference:
        first = os.path.basename(reference["run_dir"])
        return f"ran with other options than {first} ({difference})"
    return None


def summarize_experiment(directory, args, end_signals):
    """Print each run's value and the mean +- spread; return the mean (None without any value)."""
    unit = _unit(args.keyword)
    run_dirs = list_run_dirs(directory)
    print(f"Reading {directory} ({len(run_dirs)} run folders)")
    values = []
    reference = {}
    for run_dir in run_dirs:
        value, source, problem = _read_run(run_dir, args, end_signals)
        problem = problem or _options_problem(run_dir, reference)
        name = os.path.basename(run_dir)
        if problem:
            print(f"  {name}: skipped, {problem}", file=sys.stderr)
            continue
        values.append(value)
        print(f"  {name}: {args.keyword}: {value:.2f}{unit} ({source})")
    if not values:
        print(f"  nothing to average in {directory}", file=sys.stderr)
        return None
    mean = float(np.mean(values))
    spread = compute_ci95(values) if args.ci95 else float(np.std(values))
    spread_name = "95% CI" if args.ci95 else "std"
    print("===")
    print(f"Summary of {directory}: {len(values)}/{len(run_dirs)} runs, mean +- {spread_name}")
    print(f"* {args.keyword}: {mean:.2f}{unit} +- {spread:.2f}{unit}")
    print("===")
    return mean


@reports_user_errors
def main(argv=None):
    parser = ToolArgumentParser(
        description="Mean +- std of a test metric over the seed folders of an experiment."
    )
    parser.add_argument("directory", help="folder whose subfolders (seed1, seed2, ...) are runs")
    parser.add_argument(
        "--ci95", action="store_true", help="print the 95%% confidence interval instead of the std"
    )
    parser.add_argument(
        "--test-log",
        action="store_true",
        help="eval-only logs: read after '=> result' instead of 'Finish(ed) training'",
    )
    parser.add_argument(
        "--multi-exp",
        action="store_true",
        help="directory holds several experiments, each with seed folders",
    )
    parser.add_argument(
        "--keyword",
        default="accuracy",
        help="metric to read: accuracy (default), error, macro_f1, total, ...",
    )
    parser.add_argument(
        "--use-json",
        action="store_true",
        help=f"read {RESULT_FILE} where present (full precision), else the log",
    )
    args = parser.parse_args(argv)
    end_signals = end_signals_for(args.test_log)

    refuse(not os.path.isdir(args.directory), f"{args.directory} is not a folder")
    if not args.multi_exp:
        if summarize_experiment(args.directory, args, end_signals) is None:
            print(
                f"Error: no run in {args.directory} has a {args.keyword} to average (see above)",
                file=sys.stderr,
            )
            return 1
        return 0

    experiment_dirs = list_experiment_dirs(args.directory)
    means = []
    for experiment_dir in experiment_dirs:
        mean = summarize_experiment(experiment_dir, args, end_signals)
        if mean is not None:
            means.append(mean)
    if not means:
        print(
            f"Error: no experiment in {args.directory} has a {args.keyword} to average",
            file=sys.stderr,
        )
        return 1
    unit = _unit(args.keyword)
    print(f"Average over {len(means)}/{len(experiment_dirs)} experiments")
    print(f"* {args.keyword}: {np.mean(means):.2f}{unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
