"""Where a sweep's jobs run: queued on the local GPUs, or as a SLURM job array via submitit."""

import os
import queue
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

from tools.sweeps.jobs import job_shell_line


def local_devices(gpus=None):
    """GPU ids to queue jobs on: the first ``gpus`` visible ones (all when None).

    Ids are those of ``CUDA_VISIBLE_DEVICES`` when it is set. ``[None]`` when there is no GPU:
    one job at a time, on the CPU.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [device for device in visible.split(",") if device.strip()]
    else:
        import torch  # only here: a slow import, and only for counting GPUs

        ids = [str(index) for index in range(torch.cuda.device_count())]
    if gpus is not None:
        if gpus > len(ids) and gpus > 0:
            raise ValueError(f"--gpus {gpus}, but only {len(ids)} GPU(s) are visible: {ids}")
        ids = ids[:gpus]
    return ids or [None]


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
            if device is not None:
                env["CUDA_VISIBLE_DEVICES"] = device
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
            outcome = "done" if status == 0 else f"FAILED (exit status {status})"
            print(f"{outcome}: {job.name} (log: {log_path})", flush=True)
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


def cluster_executor(folder, parameters, cluster="slurm"):
    """A submitit executor; ``cluster`` "slurm", or "local"/"debug" to run without a cluster."""
    import submitit

    executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
    executor.update_parameters(**parameters)
    return executor


def submit_array(executor, jobs, environment, workdir):
    """Submit ``jobs`` as one job array (one array task per job); returns submitit's jobs."""
    from submitit.helpers import CommandFunction

    with executor.batch():
        submitted = [
            executor.submit(
                CommandFunction(["bash", "-c", job_shell_line(job, environment, workdir)])
            )
            for job in jobs
        ]
    return submitted


def wait_for(submitted, jobs):
    """Wait for every submitted job; returns the names of the failed ones."""
    failed = []
    for handle, job in zip(submitted, jobs):
        try:
            handle.result()
            print(f"done: {job.name} (job {handle.job_id})", flush=True)
        except Exception as error:  # submitit re-raises the job's failure, whatever it was
            print(f"FAILED: {job.name} (job {handle.job_id}): {error}", flush=True)
            failed.append(job.name)
    return failed
