"""Where a sweep's jobs run: queued on the local GPUs, or as a SLURM job array via submitit."""

import collections
import os
import queue
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

from submitit.helpers import Checkpointable

from tools.sweeps.jobs import SweepError, job_shell_line

# The signal submitit asks SLURM to send before a time limit or a pre-emption. The job's own
# processes ignore it, so that only submitit's handler acts on it: it requeues the job, and the
# scripts resume the runs from their checkpoints.
REQUEUE_SIGNAL = "USR2"
FAILURE_TAIL_LINES = 50  # output lines kept to say why a job failed


def local_devices(gpus=None, gpus_per_job=1):
    """What each concurrent local job sees as CUDA_VISIBLE_DEVICES: groups of ``gpus_per_job``
    of the first ``gpus`` visible GPUs (all when None), e.g. ``["0,1", "2,3"]``.

    Ids are those of ``CUDA_VISIBLE_DEVICES`` when it is set. ``[None]`` (one job at a time, on
    the CPU) when ``gpus`` is 0 or no GPU is visible and ``gpus`` was not asked for.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [device for device in visible.split(",") if device.strip()]
    else:
        import torch  # only here: a slow import, and only for counting GPUs

        ids = [str(index) for index in range(torch.cuda.device_count())]
    if gpus == 0:
        return [None]
    if gpus is not None:
        if gpus > len(ids):
            raise SweepError(
                f"--gpus {gpus}, but {len(ids)} GPU(s) are visible ({','.join(ids) or 'none'}): "
                "ask for fewer, or --gpus 0 to run on the CPU"
            )
        ids = ids[:gpus]
    if not ids:
        return [None]
    if gpus_per_job > len(ids):
        raise SweepError(
            f"--gpus-per-job {gpus_per_job}, but {len(ids)} GPU(s) are available to the sweep "
            f"({','.join(ids)})"
        )
    usable = len(ids) - len(ids) % gpus_per_job
    return [",".join(ids[start : start + gpus_per_job]) for start in range(0, usable, gpus_per_job)]


def failure_reason(lines):
    """Why a job failed, from the end of its output: its last ``Error:`` line, else its last
    line (a traceback ends with the exception)."""
    lines = [line.strip() for line in lines if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    if errors:
        return errors[-1]
    return lines[-1] if lines else "no output"


def log_tail(path):
    with open(path, errors="replace") as log:
        return collections.deque(log, maxlen=FAILURE_TAIL_LINES)


def run_local(jobs, environment, devices, log_dir, workdir):
    """Run ``jobs``, at most one per device at a time, each seeing only its device.

    Each job's output goes to ``log_dir/<job name>.log``. Returns the names of failed jobs.
    A sweep that is stopped (Ctrl-C, SIGTERM) stops its running jobs and starts no other; the
    same command resumes them.
    """
    os.makedirs(log_dir, exist_ok=True)
    free = queue.Queue()
    for device in devices:
        free.put(device)
    running = {}  # job name -> its process (the leader of the job's own process group)
    stopping = threading.Event()

    def run(job):
        device = free.get()
        try:
            if stopping.is_set():
                return None
            env = dict(os.environ)
            env["CUDA_VISIBLE_DEVICES"] = "" if device is None else device  # "": no GPU at all
            log_path = os.path.join(log_dir, f"{job.name}.log")
            where = "on the CPU" if device is None else f"on GPU {device}"
            print(f"start {job.name} {where}", flush=True)
            with open(log_path, "a") as log:
                running[job.name] = subprocess.Popen(
                    ["bash", "-c", job_shell_line(job, environment, workdir)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # stopped as a whole: bash, train.py, its workers
                )
                status = running[job.name].wait()
                del running[job.name]
            if status == 0:
                print(f"done: {job.name} (log: {log_path})", flush=True)
            else:
                reason = failure_reason(log_tail(log_path))
                print(
                    f"FAILED (exit status {status}): {job.name}: {reason} (log: {log_path})",
                    flush=True,
                )
            return status
        finally:
            free.put(device)

    previous_handler = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    pool = ThreadPoolExecutor(len(devices))
    try:
        statuses = list(pool.map(run, jobs))
    except BaseException:
        stopping.set()
        for name, process in list(running.items()):
            print(f"stopping {name}", flush=True)
            os.killpg(process.pid, signal.SIGTERM)
        raise
    finally:
        pool.shutdown(wait=True)
        signal.signal(signal.SIGTERM, previous_handler)
    return [job.name for job, status in zip(jobs, statuses) if status != 0]


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


class JobFailed(RuntimeError):
    """A job's command ended with a non-zero status; the message says why."""


class ResumableCommand(Checkpointable):
    """A job's shell line, run by submitit in a SLURM array task.

    On a time limit or a pre-emption submitit calls ``checkpoint()``, which resubmits this same
    command (Checkpointable's), and requeues the task: the scripts then skip the finished runs
    and resume the unfinished ones from their checkpoints. The output is passed through to
    submitit's log; a failure raises JobFailed with the job's own reason.
    """

    def __init__(self, shell_line):
        self.command = ["bash", "-c", f"trap '' {REQUEUE_SIGNAL}; {shell_line}"]

    def __call__(self):
        process = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # stopped as a whole when submitit exits for a requeue
        )
        tail = collections.deque(maxlen=FAILURE_TAIL_LINES)
        try:
            for line in process.stdout:
                print(line, end="", flush=True)
                tail.append(line)
            status = process.wait()
        except BaseException:
            os.killpg(process.pid, signal.SIGTERM)
            raise
        if status != 0:
            raise JobFailed(f"exit status {status}: {failure_reason(tail)}")
        return status


def cluster_executor(folder, parameters, cluster="slurm", max_requeues=3):
    """A submitit executor; ``cluster`` "slurm", or "debug" to run the array here.
    ``max_requeues``: how often a timed-out task is requeued to resume."""
    import submitit

    executor = submitit.AutoExecutor(
        folder=folder, cluster=cluster, slurm_max_num_timeout=max_requeues
    )
    executor.update_parameters(**parameters)
    return executor


def submit_array(executor, jobs, environment, workdir):
    """Submit ``jobs`` as one job array (one array task per job); returns submitit's jobs."""
    with executor.batch():
        submitted = [
            executor.submit(ResumableCommand(job_shell_line(job, environment, workdir)))
            for job in jobs
        ]
    return submitted


def print_job_table(submitted, jobs):
    """Which SLURM job (array id _ index) runs which sweep job."""
    print(f"{'SLURM job':>16}  sweep job")
    for handle, job in zip(submitted, jobs):
        print(f"{handle.job_id:>16}  {job.name}")


def job_failure(error):
    """The reason in a failed job's exception (submitit re-raises it with its traceback)."""
    lines = str(error).splitlines()
    marker = f"{JobFailed.__name__}: "
    reasons = [line.split(marker, 1)[1] for line in lines if marker in line]
    return reasons[-1] if reasons else failure_reason(lines)


def wait_for(submitted, jobs):
    """Wait for every submitted job; returns the names of the failed ones."""
    failed = []
    for handle, job in zip(submitted, jobs):
        # exception(), not result(): the debug executor's result() opens pdb on a failure
        error = handle.exception()
        if error is None:
            print(f"done: {job.name} (job {handle.job_id})", flush=True)
        else:
            print(f"FAILED: {job.name} (job {handle.job_id}): {job_failure(error)}", flush=True)
            failed.append(job.name)
    return failed
