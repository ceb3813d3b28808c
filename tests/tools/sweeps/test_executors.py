"""tools/sweeps/executors.py: which GPUs a local job sees, why a job failed, and the SLURM
command that submitit requeues on a time limit or a pre-emption."""

import pytest
from submitit.core.utils import DelayedSubmission
from submitit.helpers import Checkpointable

from tools.sweeps.executors import (
    JobFailed,
    ResumableCommand,
    cluster_executor,
    failure_reason,
    job_failure,
    local_devices,
    run_local,
    submit_array,
    wait_for,
)
from tools.sweeps.jobs import Job, ScriptCall, SweepError


def script_job(tmp_path, name, body):
    script = tmp_path / f"{name}.sh"
    script.write_text(body)
    return Job(name, (ScriptCall(str(script), (), str(tmp_path / "out" / name)),))


@pytest.mark.parametrize(
    "visible, gpus, per_job, expected",
    [
        ("0,1,2,3,4", None, 2, ["0,1", "2,3"]),  # the fifth GPU cannot make a pair
        ("0,1,2,3", 2, 1, ["0", "1"]),
        ("3,5", 0, 1, [None]),  # --gpus 0: the CPU, whatever is visible
        ("", None, 4, [None]),  # no GPU and none asked for: the CPU
    ],
)
def test_local_devices_are_groups_of_gpus_per_job(monkeypatch, visible, gpus, per_job, expected):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert local_devices(gpus, per_job) == expected


@pytest.mark.parametrize(
    "gpus, per_job, message",
    [(3, 1, r"--gpus 3, but 2 GPU\(s\) are visible \(0,1\)"), (None, 4, r"--gpus-per-job 4")],
)
def test_more_gpus_than_visible_is_a_sweep_error(monkeypatch, gpus, per_job, message):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with pytest.raises(SweepError, match=message):
        local_devices(gpus, per_job)


def test_a_cpu_job_sees_no_gpu_even_when_the_sweep_does(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    job = script_job(tmp_path, "cpu", f'echo "[$CUDA_VISIBLE_DEVICES]" > {tmp_path}/seen\n')
    assert run_local([job], {}, [None], str(tmp_path / "logs"), str(tmp_path)) == []
    assert (tmp_path / "seen").read_text() == "[]\n"


def test_a_failed_local_job_prints_its_error_line_not_only_its_log(tmp_path, capsys):
    body = 'echo "Error: DATA=/nowhere is not a folder."\necho "more output"\nexit 2\n'
    job = script_job(tmp_path, "broken", body)
    assert run_local([job], {}, [None], str(tmp_path / "logs"), str(tmp_path)) == ["broken"]
    printed = capsys.readouterr().out
    assert "FAILED (exit status 2): broken: Error: DATA=/nowhere is not a folder." in printed


def test_failure_reason_is_the_last_error_line_else_the_last_line():
    assert failure_reason(["Error: first\n", "Error: second\n", "tail\n"]) == "Error: second"
    traceback = ["Traceback (most recent call last):\n", "ValueError: bad shape\n", "\n"]
    assert failure_reason(traceback) == "ValueError: bad shape"
    assert failure_reason([]) == "no output"


def test_resumable_command_passes_output_through_and_raises_the_reason(capsys):
    assert ResumableCommand("echo hello")() == 0
    assert capsys.readouterr().out == "hello\n"
    with pytest.raises(JobFailed, match=r"exit status 3: Error: no such dataset"):
        ResumableCommand('echo "Error: no such dataset"; exit 3')()


def test_the_requeue_signal_reaches_submitit_only():
    # SLURM signals every process of the task; the job's shell (and train.py) ignore it
    assert ResumableCommand("true").command == ["bash", "-c", "trap '' USR2; true"]
    status = ResumableCommand("kill -USR2 $$; echo survived")()
    assert status == 0


def test_a_timed_out_task_is_resubmitted_as_the_same_command():
    command = ResumableCommand("bash scripts/sep/base2new_train.sh dtd 1")
    assert isinstance(command, Checkpointable)
    delayed = command.checkpoint()
    assert isinstance(delayed, DelayedSubmission)
    assert delayed.function is command and delayed.args == () and delayed.kwargs == {}


def test_the_reason_is_found_in_submitits_traceback_text():
    text = (
        "Job (task=0) failed during processing with trace:\n----\nTraceback ...\n"
        '  File "executors.py", line 9, in __call__\n'
        "tools.sweeps.executors.JobFailed: exit status 2: Error: Unknown dataset\n"
    )
    assert job_failure(RuntimeError(text)) == "exit status 2: Error: Unknown dataset"


def test_debug_executor_runs_the_array_and_reports_each_failure_with_its_reason(tmp_path, capsys):
    jobs = [
        script_job(tmp_path, "works", f"touch {tmp_path}/ran\n"),
        script_job(tmp_path, "fails", 'echo "Error: SEED must be a whole number"; exit 2\n'),
    ]
    executor = cluster_executor(str(tmp_path / "submitit"), {"timeout_min": 5}, "debug")
    submitted = submit_array(executor, jobs, {"OUTPUT": str(tmp_path)}, str(tmp_path))
    assert wait_for(submitted, jobs) == ["fails"]
    assert (tmp_path / "ran").exists()
    printed = capsys.readouterr().out
    assert "FAILED: fails" in printed
    assert printed.rstrip().endswith("exit status 2: Error: SEED must be a whole number")
