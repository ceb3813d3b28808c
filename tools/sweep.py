"""Run a protocol's grid of runs with the scripts, locally or on SLURM, then print the table.

    python tools/sweep.py --protocol base2new --datasets dtd eurosat --seeds 1 2 3 \\
        --methods SEP CoOp --executor local --gpus 4
    python tools/sweep.py --protocol base2new --datasets dtd --seeds 1 2 3 --methods SEP \\
        --executor slurm --partition gpu --time 720 --opts OPTIM.MAX_EPOCH 20
    python tools/sweep.py ... --dry-run          # list the jobs and their commands only

Each job runs the method's scripts (scripts/<method>/*.sh), so the output folders are the
scripts'. Finished jobs are skipped and unfinished ones resume, so a killed sweep is continued
by running the same command again. DATA, OUTPUT and SHOTS are read as by the scripts.
"""

import argparse
import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools import compare_results  # noqa: E402
from tools.sweeps.executors import (  # noqa: E402
    cluster_executor,
    local_devices,
    run_local,
    submit_array,
    wait_for,
)
from tools.sweeps.jobs import (  # noqa: E402
    DEFAULT_TARGETS,
    PROTOCOLS,
    SweepError,
    dataset_name,
    expand,
    job_shell_line,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocol", choices=PROTOCOLS, default="base2new")
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=None,
        help="dataset config names (targets for cross_dataset / domain_generalization, "
        "default: the standard targets)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--methods", nargs="+", required=True, help="trainer names, e.g. SEP")
    parser.add_argument("--opts", nargs="+", default=[], help="yacs options for every run")
    parser.add_argument("--data", default=os.environ.get("DATA"), help="datasets root ($DATA)")
    parser.add_argument(
        "--output", default=os.environ.get("OUTPUT", "output"), help="output root ($OUTPUT)"
    )
    parser.add_argument("--shots", type=int, default=int(os.environ.get("SHOTS", "16")))
    parser.add_argument("--executor", choices=("local", "slurm"), default="local")
    parser.add_argument(
        "--gpus", type=int, help="local: GPUs to queue jobs on, one job each (default: all)"
    )
    parser.add_argument("--dry-run", action="store_true", help="list the jobs, run nothing")
    slurm = parser.add_argument_group("slurm (one array task per job, one GPU each)")
    slurm.add_argument("--partition")
    slurm.add_argument("--time", type=int, default=24 * 60, help="minutes per job")
    slurm.add_argument("--cpus-per-task", type=int, default=8)
    slurm.add_argument("--array-parallelism", type=int, default=64)
    slurm.add_argument("--slurm-folder", help="submitit's folder (default OUTPUT/sweeps/slurm)")
    slurm.add_argument("--no-wait", action="store_true", help="submit and return")
    return parser.parse_args(argv)


def slurm_parameters(args):
    parameters = dict(
        name=f"sweep-{args.protocol}",
        timeout_min=args.time,
        gpus_per_node=1,
        tasks_per_node=1,
        cpus_per_task=args.cpus_per_task,
        slurm_array_parallelism=args.array_parallelism,
    )
    if args.partition:
        parameters["slurm_partition"] = args.partition
    return parameters


def print_plan(jobs):
    pending = []
    for job in jobs:
        status = job.status()
        print(f"{status:>10}  {job.name}" + ("  (skipped)" if status == "finished" else ""))
        if status != "finished":
            pending.append(job)
    print(f"{len(jobs)} jobs: {len(jobs) - len(pending)} finished, {len(pending)} to run")
    return pending


def print_table(args):
    datasets = args.datasets or DEFAULT_TARGETS.get(args.protocol)
    argv = [args.output, "--protocol", args.protocol, "--seeds", *map(str, args.seeds)]
    if datasets:
        argv += ["--datasets", *map(dataset_name, datasets)]
    compare_results.main(argv)


def main(argv=None, cluster="slurm"):
    """``cluster``: submitit's cluster for --executor slurm ("debug" runs the array here)."""
    args = parse_args(argv)
    output = os.path.abspath(args.output)
    try:
        jobs = expand(
            args.protocol, args.datasets, args.seeds, args.methods, output, args.shots, args.opts
        )
    except SweepError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    pending = print_plan(jobs)
    if not args.data and not args.dry_run:
        print("Error: DATA is not set: pass --data or set DATA=/path/to/datasets", file=sys.stderr)
        return 2
    environment = dict(OUTPUT=output, SHOTS=args.shots, PYTHON=sys.executable)
    if args.data:
        environment["DATA"] = os.path.abspath(args.data)
    if args.dry_run:
        for job in pending:
            print(f"{job.name}: {job_shell_line(job, environment, os.getcwd())}")
        if args.executor == "slurm":
            print(f"submitit parameters: {slurm_parameters(args)}")
        return 0
    failed = []
    if pending and args.executor == "local":
        devices = local_devices(args.gpus)
        log_dir = os.path.join(output, "sweeps", "logs")
        failed = run_local(pending, environment, devices, log_dir, os.getcwd())
    elif pending:
        folder = args.slurm_folder or os.path.join(output, "sweeps", "slurm")
        executor = cluster_executor(folder, slurm_parameters(args), cluster)
        submitted = submit_array(executor, pending, environment, os.getcwd())
        print(f"submitted {len(submitted)} array tasks: {submitted[0].job_id.split('_')[0]}")
        if args.no_wait:
            print("Run the same command again to see the table once they have finished.")
            return 0
        failed = wait_for(submitted, pending)
    print_table(args)
    if failed:
        print(f"{len(failed)} job(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
