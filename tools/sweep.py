"""Run a protocol's grid of runs with the scripts, locally or on SLURM, then print the table.

    python tools/sweep.py --protocol base2new --datasets dtd eurosat --seeds 1 2 3 \\
        --methods SEP CoOp --executor local --gpus 4
    python tools/sweep.py --protocol base2new --datasets dtd --seeds 1 2 3 --methods SEP \\
        --executor slurm --partition gpu --time 720 --opts OPTIM.MAX_EPOCH 20
    python tools/sweep.py ... --dry-run          # list the jobs and their commands only

Each job runs the method's scripts (scripts/<method>/*.sh), so the output folders are the
scripts'. Finished jobs are skipped and unfinished ones resume, so a killed sweep is continued
by running the same command again; on SLURM a timed-out or pre-empted task is requeued and
resumes the same way. DATA, OUTPUT and SHOTS are read as by the scripts.
"""

import argparse
import contextlib
import difflib
import io
import os
import shutil
import subprocess
import sys

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools import compare_results  # noqa: E402
from tools.sweeps.executors import (  # noqa: E402
    cluster_executor,
    local_devices,
    print_job_table,
    run_local,
    submit_array,
    wait_for,
)
from tools.sweeps.jobs import (  # noqa: E402
    DEFAULT_TARGETS,
    PROTOCOLS,
    REPO_ROOT,
    SweepError,
    dataset_name,
    expand,
    job_shell_line,
)

DATASET_CONFIGS = os.path.join(REPO_ROOT, "configs", "datasets")
MAX_SEED = 2**32 - 1  # numpy's and torch's seeds
# Seconds between SLURM's warning signal and the end of a task's time: submitit requeues then.
SIGNAL_DELAY_S = 120


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
    parser.add_argument(
        "--executor",
        choices=("local", "debug", "slurm"),
        default="local",
        help="local: queued on this machine's GPUs; slurm: a job array via submitit; debug: "
        "submitit's debug executor (the slurm path, run here one job after another)",
    )
    parser.add_argument(
        "--gpus",
        type=int,
        help="local: GPUs to queue jobs on (default: all visible; 0: on the CPU, "
        'CUDA_VISIBLE_DEVICES="")',
    )
    parser.add_argument(
        "--gpus-per-job",
        "--gpus-per-task",
        type=int,
        default=1,
        help="GPUs of each job (local) or array task (slurm); above 1, each run is started "
        "with torchrun, one process per GPU",
    )
    parser.add_argument("--dry-run", action="store_true", help="list the jobs, run nothing")
    slurm = parser.add_argument_group("slurm (one array task per job)")
    slurm.add_argument("--partition")
    slurm.add_argument("--account")
    slurm.add_argument("--qos")
    slurm.add_argument("--mem", help="memory per node, as sbatch takes it (e.g. 64G)")
    slurm.add_argument("--constraint")
    slurm.add_argument("--gres", help="e.g. gpu:a100:2 (replaces --gpus-per-node)")
    slurm.add_argument(
        "--sbatch",
        action="append",
        default=[],
        metavar="OPTION",
        help='any other sbatch option, as in an "#SBATCH" line: --sbatch exclude=node12 or '
        "--sbatch=--exclude=node12; repeat for several",
    )
    slurm.add_argument("--time", type=int, default=24 * 60, help="minutes per job")
    slurm.add_argument("--cpus-per-task", type=int, default=8)
    slurm.add_argument("--array-parallelism", type=int, default=64)
    slurm.add_argument(
        "--max-requeues",
        type=int,
        default=3,
        help="times a timed-out task is requeued (it resumes); pre-emptions always are",
    )
    slurm.add_argument("--slurm-folder", help="submitit's folder (default OUTPUT/sweeps/slurm)")
    slurm.add_argument("--no-wait", action="store_true", help="submit and return")
    return parser.parse_args(argv)


def sbatch_options(lines):
    """``--sbatch`` values ("--key=value", "key=value", "--flag" or "#SBATCH --key=value") as
    submitit's additional parameters."""
    options = {}
    for line in lines:
        text = line.strip().removeprefix("#SBATCH").strip().lstrip("-")
        key, has_value, value = text.partition("=")
        if not key or " " in key:
            raise SweepError(
                f'--sbatch "{line}" is not an sbatch option such as "--exclude=node12"'
            )
        options[key] = value if has_value else True
    return options


def slurm_parameters(args):
    parameters = dict(
        name=f"sweep-{args.protocol}",
        timeout_min=args.time,
        tasks_per_node=1,  # one task; torchrun starts a process per GPU inside it
        cpus_per_task=args.cpus_per_task,
        slurm_array_parallelism=args.array_parallelism,
        slurm_signal_delay_s=SIGNAL_DELAY_S,
        # the array tasks unpickle tools.sweeps' command: the repository must be importable
        slurm_setup=[f"export PYTHONPATH={REPO_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}"],
    )
    if args.gres:
        parameters["slurm_gres"] = args.gres
    else:
        parameters["gpus_per_node"] = args.gpus_per_job
    for name in ("partition", "account", "qos", "mem", "constraint"):
        if getattr(args, name):
            parameters[f"slurm_{name}"] = getattr(args, name)
    extra = sbatch_options(args.sbatch)
    if extra:
        parameters["slurm_additional_parameters"] = extra
    return parameters


def known_datasets():
    return sorted(name[: -len(".yaml")] for name in os.listdir(DATASET_CONFIGS))


def check_arguments(args):
    """Every mistake the sweep can see is refused here, before any job starts."""
    known = known_datasets()
    for dataset in args.datasets or ():
        if dataset not in known:
            close = difflib.get_close_matches(dataset, known, n=1)
            hint = f' Did you mean "{close[0]}"?' if close else f" Known: {' '.join(known)}."
            raise SweepError(f'Unknown dataset "{dataset}".{hint}')
    for seed in args.seeds:
        if not 0 <= seed <= MAX_SEED:
            raise SweepError(f"--seeds: a seed must be a whole number 0..{MAX_SEED}, got {seed}")
    for name in ("shots", "gpus_per_job", "time", "cpus_per_task", "array_parallelism"):
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise SweepError(f"{flag} must be at least 1, got {getattr(args, name)}")
    if args.gpus is not None and args.gpus < 0:
        raise SweepError(f"--gpus must be 0 (on the CPU) or more, got {args.gpus}")
    if args.max_requeues < 0:
        raise SweepError(f"--max-requeues must be 0 or more, got {args.max_requeues}")
    missing = [tool for tool in ("sbatch", "srun") if shutil.which(tool) is None]
    if args.executor == "slurm" and not args.dry_run and missing:
        raise SweepError(
            f"--executor slurm needs SLURM, and {' and '.join(missing)} not on PATH: run the "
            "sweep on the cluster's login node, or use --executor local here"
        )
    sbatch_options(args.sbatch)


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


def main(argv=None):
    args = parse_args(argv)
    try:
        return run_sweep(args)
    except SweepError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "Interrupted: no new job was started and the running local jobs were stopped (jobs "
            "already submitted to SLURM keep running); the same command continues the sweep.",
            file=sys.stderr,
        )
        return 130


def run_sweep(args):
    check_arguments(args)
    output = os.path.abspath(args.output)
    jobs = expand(
        args.protocol, args.datasets, args.seeds, args.methods, output, args.shots, args.opts
    )
    pending = print_plan(jobs)
    if not args.data and not args.dry_run:
        raise SweepError("DATA is not set: pass --data or set DATA=/path/to/datasets")
    environment = dict(OUTPUT=output, SHOTS=args.shots, PYTHON=sys.executable)
    if args.data:
        environment["DATA"] = os.path.abspath(args.data)
    if args.gpus_per_job > 1:
        environment["TORCHRUN_NPROC"] = args.gpus_per_job  # read by scripts/common.sh
    if args.dry_run:
        for job in pending:
            print(f"{job.name}: {job_shell_line(job, environment, os.getcwd())}")
        if args.executor != "local":
            print(f"submitit parameters: {slurm_parameters(args)}")
        return 0
    failed = []
    if pending and args.executor == "local":
        devices = local_devices(args.gpus, args.gpus_per_job)
        log_dir = os.path.join(output, "sweeps", "logs")
        failed = run_local(pending, environment, devices, log_dir, os.getcwd())
    elif pending:
        folder = args.slurm_folder or os.path.join(output, "sweeps", "slurm")
        executor = cluster_executor(
            folder, slurm_parameters(args), args.executor, args.max_requeues
        )
        submitted = submit_with_one_line_errors(executor, pending, environment)
        print(f"submitted {len(submitted)} array tasks: {submitted[0].job_id.split('_')[0]}")
        print_job_table(submitted, pending)
        if args.no_wait:
            print("Run the same command again to see the table once they have finished.")
            return 0
        failed = wait_for(submitted, pending)
    print_table(args)
    if failed:
        print(f"{len(failed)} job(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def submit_with_one_line_errors(executor, jobs, environment):
    """submit_array; an sbatch that refuses the array (an unknown account, partition, QoS...)
    is a SweepError carrying sbatch's own message."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # submitit echoes sbatch's stderr
            return submit_array(executor, jobs, environment, os.getcwd())
    except (subprocess.CalledProcessError, OSError) as error:
        output = getattr(error, "output", None) or getattr(error, "stderr", None) or b""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        message = " ".join(output.split()) or str(error)
        raise SweepError(f"sbatch refused the job array: {message}") from error
    except RuntimeError as error:  # submitit wraps sbatch's failures in a RuntimeError
        raise SweepError(f"sbatch refused the job array: {' '.join(str(error).split())}") from error


if __name__ == "__main__":
    sys.exit(main())
