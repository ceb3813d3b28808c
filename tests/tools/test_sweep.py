"""tools/sweep.py: the local GPU queue, the dry run, the SLURM submission (with a stand-in
sbatch) and whole sweeps on the toy data."""

import glob
import os
import pickle
import signal
import stat
import subprocess
import sys
import time

import pytest

from tools import sweep
from tools.sweeps.executors import run_local
from tools.sweeps.jobs import REPO_ROOT, Job, ScriptCall, expand, job_shell_line

TOY_OPTS = ["OPTIM.MAX_EPOCH", "1", "INPUT.SIZE", "(32, 32)", "DATALOADER.NUM_WORKERS", "0"]


def recording_job(tmp_path, name, body):
    script = tmp_path / f"{name}.sh"
    script.write_text(body)
    return Job(name, (ScriptCall(str(script), (name,), str(tmp_path / "out" / name)),))


def test_local_jobs_are_queued_one_per_gpu_each_seeing_only_its_gpu(tmp_path):
    # each job appends "start <device>" and "end <device>" to one shared journal
    body = (
        f'echo "start $CUDA_VISIBLE_DEVICES $1" >> {tmp_path}/journal\n'
        "sleep 0.3\n"
        f'echo "end $CUDA_VISIBLE_DEVICES $1" >> {tmp_path}/journal\n'
    )
    jobs = [recording_job(tmp_path, f"job{index}", body) for index in range(4)]
    logs = str(tmp_path / "logs")
    failed = run_local(jobs, {"OUTPUT": str(tmp_path)}, ["3", "5"], logs, str(tmp_path))
    assert failed == []
    running = {}
    for line in (tmp_path / "journal").read_text().splitlines():
        event, device, name = line.split()
        assert device in ("3", "5")
        if event == "start":
            assert device not in running.values(), "two jobs on one GPU at once"
            running[name] = device
        else:
            assert running.pop(name) == device
    assert not running
    assert sorted(os.listdir(tmp_path / "logs")) == [f"job{index}.log" for index in range(4)]


def test_a_failing_local_job_is_reported_and_the_others_still_run(tmp_path):
    jobs = [
        recording_job(tmp_path, "fails", "exit 3\n"),
        recording_job(tmp_path, "works", f"touch {tmp_path}/ran\n"),
    ]
    logs = str(tmp_path / "logs")
    assert run_local(jobs, {"OUTPUT": str(tmp_path)}, [None], logs, str(tmp_path)) == ["fails"]
    assert (tmp_path / "ran").exists()


def test_dry_run_lists_the_commands_and_runs_nothing(tmp_path, capsys):
    output = tmp_path / "output"
    argv = ["--datasets", "dtd", "--seeds", "1", "--methods", "SEP", "--output", str(output)]
    assert sweep.main([*argv, "--dry-run", "--data", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "1 jobs: 0 finished, 1 to run" in printed
    assert "scripts/sep/base2new_train.sh dtd 1 && bash " in printed
    assert printed.rstrip().endswith("scripts/sep/base2new_test.sh dtd 1")
    assert not output.exists()


def test_unknown_methods_are_one_error_line(capsys):
    assert sweep.main(["--datasets", "dtd", "--methods", "SEEP", "--dry-run"]) == 2
    assert capsys.readouterr().err.startswith("Error: Unknown method(s) ['SEEP']")


def fake_slurm(folder):
    """sbatch and srun stand-ins: sbatch keeps the submission script and prints a job id."""
    folder.mkdir()
    sbatch = folder / "sbatch"
    sbatch.write_text(
        f'#!/bin/bash\ncp "${{@: -1}}" {folder}/submitted.sh\necho "Submitted batch job 4242"\n'
    )
    srun = folder / "srun"
    srun.write_text("#!/bin/bash\nexit 0\n")
    for tool in (sbatch, srun):
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return folder


def test_slurm_sweep_is_one_job_array_of_the_scripts_calls(tmp_path, monkeypatch, capsys):
    bin_dir = fake_slurm(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    output = tmp_path / "output"
    argv = [
        "--datasets", "dtd", "eurosat", "--seeds", "1", "--methods", "CoOp",
        "--output", str(output), "--data", str(tmp_path), "--executor", "slurm",
        "--partition", "gpu", "--time", "90", "--no-wait",
    ]  # fmt: skip
    assert sweep.main(argv) == 0
    assert "submitted 2 array tasks: 4242" in capsys.readouterr().out
    submission = (bin_dir / "submitted.sh").read_text()
    for line in (
        "#SBATCH --array=0-1%2",  # submitit caps the parallelism at the array size
        "#SBATCH --partition=gpu",
        "#SBATCH --time=90",
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --cpus-per-task=8",
    ):
        assert line in submission
    # each array task runs the pickled command of its job
    jobs = expand("base2new", ["dtd", "eurosat"], [1], ["CoOp"], str(output))
    environment = dict(OUTPUT=str(output), SHOTS=16, PYTHON=sys.executable, DATA=str(tmp_path))
    commands = []
    for path in sorted(glob.glob(str(output / "sweeps" / "slurm" / "4242_*_submitted.pkl"))):
        with open(path, "rb") as file:
            commands.append(pickle.load(file).function.command)
    assert commands == [
        ["bash", "-c", f"trap '' USR2; {job_shell_line(job, environment, os.getcwd())}"]
        for job in jobs
    ]


def toy_sweep_argv(toy_data_root, output, *methods):
    clip = os.path.join(toy_data_root, "tiny_clip.pt")
    return [
        "--datasets", "caltech101", "--seeds", "1", "--methods", *methods,
        "--output", str(output), "--data", toy_data_root, "--shots", "2",
        "--opts", *TOY_OPTS, "MODEL.BACKBONE.NAME", clip,
    ]  # fmt: skip


@pytest.mark.slow
def test_local_sweep_runs_the_scripts_prints_the_table_and_skips_what_is_finished(
    toy_data_root, tmp_path, capsys
):
    output = tmp_path / "output"
    argv = toy_sweep_argv(toy_data_root, output, "CoOp", "ZeroshotCLIP")
    assert sweep.main([*argv, "--gpus", "0"]) == 0
    printed = capsys.readouterr().out
    assert "Base" in printed and "HM" in printed and "ZeroshotCLIP/vit_b16_opts-" in printed
    opts = [*TOY_OPTS, "MODEL.BACKBONE.NAME", os.path.join(toy_data_root, "tiny_clip.pt")]
    jobs = expand("base2new", ["caltech101"], [1], ["CoOp", "ZeroshotCLIP"], str(output), 2, opts)
    assert [job.status() for job in jobs] == ["finished", "finished"]  # the scripts' folders
    logs = sorted(os.listdir(output / "sweeps" / "logs"))

    assert sweep.main([*argv, "--gpus", "0"]) == 0
    assert "2 jobs: 2 finished, 0 to run" in capsys.readouterr().out
    assert sorted(os.listdir(output / "sweeps" / "logs")) == logs


@pytest.mark.slow
def test_slurm_path_runs_through_submitit_without_a_cluster(toy_data_root, tmp_path, capsys):
    output = tmp_path / "output"
    argv = toy_sweep_argv(toy_data_root, output, "ZeroshotCLIP")
    assert sweep.main([*argv, "--executor", "debug"]) == 0
    assert "done: base2new-ZeroshotCLIP-caltech101-seed1" in capsys.readouterr().out
    assert (
        len(glob.glob(str(output / "base2new" / "*" / "*" / "*" / "*" / "*" / "*" / "result.json")))
        == 2
    )


STOPPED_SWEEP = """
import sys
from tools.sweeps.executors import run_local
from tools.sweeps.jobs import Job, ScriptCall
folder = sys.argv[1]
jobs = [
    Job(name, (ScriptCall(f"{folder}/{name}.sh", (), f"{folder}/{name}"),))
    for name in ("long", "queued")
]
run_local(jobs, {}, [None], f"{folder}/logs", folder)
"""


def test_a_stopped_local_sweep_stops_its_running_job_and_starts_no_other(tmp_path):
    (tmp_path / "long.sh").write_text(f"echo $$ > {tmp_path}/pid\nsleep 60\n")
    (tmp_path / "queued.sh").write_text(f"touch {tmp_path}/queued_ran\n")
    sweep_process = subprocess.Popen(
        [sys.executable, "-c", STOPPED_SWEEP, str(tmp_path)], cwd=REPO_ROOT
    )
    deadline = time.time() + 60
    while not (tmp_path / "pid").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)  # the pid file is written; the job is in its sleep
    sweep_process.send_signal(signal.SIGTERM)
    assert sweep_process.wait(timeout=60) == 128 + signal.SIGTERM
    job_pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):  # the job's shell is gone, not orphaned
        for _ in range(100):
            os.kill(job_pid, 0)
            time.sleep(0.05)
    assert not (tmp_path / "queued_ran").exists()


def submit_to_fake_slurm(tmp_path, monkeypatch, *extra):
    bin_dir = fake_slurm(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    argv = [
        "--datasets", "dtd", "--seeds", "1", "2", "--methods", "CoOp",
        "--output", str(tmp_path / "output"), "--data", str(tmp_path),
        "--executor", "slurm", "--no-wait", *extra,
    ]  # fmt: skip
    status = sweep.main(argv)
    return status, (bin_dir / "submitted.sh").read_text()


def pickled_commands(tmp_path):
    commands = []
    for path in sorted(glob.glob(str(tmp_path / "output" / "sweeps" / "slurm" / "*.pkl"))):
        with open(path, "rb") as file:  # submitit's own file, written by this test
            commands.append(pickle.load(file).function.command[-1])
    return commands


def test_slurm_options_reach_the_sbatch_file(tmp_path, monkeypatch, capsys):
    status, submission = submit_to_fake_slurm(
        tmp_path, monkeypatch,
        "--account", "proj42", "--qos", "high", "--mem", "64G", "--constraint", "a100",
        "--gpus-per-job", "4", "--sbatch", "exclude=node12", "--sbatch=--mail-type=END",
        "--sbatch", "#SBATCH --requeue",
    )  # fmt: skip
    assert status == 0
    sbatch_lines = set(submission.splitlines())
    for line in (
        "#SBATCH --account=proj42",
        "#SBATCH --qos=high",
        "#SBATCH --mem=64G",
        "#SBATCH --constraint=a100",
        "#SBATCH --gpus-per-node=4",
        "#SBATCH --ntasks-per-node=1",
        "#SBATCH --exclude=node12",
        "#SBATCH --mail-type=END",
        "#SBATCH --requeue",
        "#SBATCH --signal=USR2@120",  # submitit's warning before the time limit: requeue
    ):
        assert line in sbatch_lines, line
    assert f"export PYTHONPATH={REPO_ROOT}" in submission
    # one task of 4 GPUs: the scripts start train.py with torchrun, 4 processes
    commands = pickled_commands(tmp_path)
    assert len(commands) == 2 and all("TORCHRUN_NPROC=4" in command for command in commands)


def test_gres_replaces_the_gpu_count(tmp_path, monkeypatch):
    status, submission = submit_to_fake_slurm(tmp_path, monkeypatch, "--gres", "gpu:a100:2")
    assert status == 0
    assert "#SBATCH --gres=gpu:a100:2" in submission
    assert "--gpus-per-node" not in submission


def test_submission_prints_which_array_task_is_which_job(tmp_path, monkeypatch, capsys):
    assert submit_to_fake_slurm(tmp_path, monkeypatch)[0] == 0
    printed = capsys.readouterr().out
    assert "4242_0  base2new-CoOp-dtd-seed1" in printed
    assert "4242_1  base2new-CoOp-dtd-seed2" in printed


def test_an_sbatch_refusal_is_one_error_line(tmp_path, monkeypatch, capsys):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sbatch = bin_dir / "sbatch"
    refusal = "sbatch: error: Invalid account or account/partition"
    sbatch.write_text(f'#!/bin/bash\necho "{refusal}" >&2\nexit 1\n')
    sbatch.chmod(0o755)
    (bin_dir / "srun").symlink_to("/bin/true")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    argv = ["--datasets", "dtd", "--seeds", "1", "--methods", "CoOp", "--data", str(tmp_path)]
    argv += ["--output", str(tmp_path / "output"), "--executor", "slurm", "--account", "nope"]
    assert sweep.main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        "Error: sbatch refused the job array: sbatch: error: Invalid account or account/partition\n"
    )


def test_slurm_off_cluster_is_one_error_line(tmp_path, monkeypatch, capsys):
    no_sbatch = [
        folder
        for folder in os.environ["PATH"].split(os.pathsep)
        if not os.path.exists(os.path.join(folder, "sbatch"))
    ]
    monkeypatch.setenv("PATH", os.pathsep.join(no_sbatch))
    argv = ["--datasets", "dtd", "--methods", "SEP", "--data", str(tmp_path), "--executor", "slurm"]
    assert sweep.main([*argv, "--output", str(tmp_path / "output")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("Error: --executor slurm needs SLURM")
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--datasets", "dtdd"], 'Error: Unknown dataset "dtdd". Did you mean "dtd"?'),
        (["--datasets", "dtd", "--seeds", "-1"], "Error: --seeds: a seed must be a whole number"),
        (["--datasets", "dtd", "--seeds", str(2**32)], "Error: --seeds: a seed must be"),
        (["--datasets", "dtd", "--gpus", "-1"], "Error: --gpus must be 0"),
        (["--datasets", "dtd", "--shots", "0"], "Error: --shots must be at least 1"),
        (["--datasets", "dtd", "--sbatch", "two words"], "Error: --sbatch \"two words\""),
    ],
)
def test_mistakes_are_one_error_line_before_any_job(extra, message, tmp_path, capsys):
    argv = ["--methods", "SEP", "--data", str(tmp_path), "--output", str(tmp_path / "out"), *extra]
    assert sweep.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_too_many_gpus_is_one_error_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    argv = ["--datasets", "dtd", "--methods", "SEP", "--data", str(tmp_path), "--gpus", "2"]
    assert sweep.main([*argv, "--output", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        "Error: --gpus 2, but 0 GPU(s) are visible (none): ask for fewer, or --gpus 0 to run on "
        "the CPU\n"
    )


def test_ctrl_c_is_one_line(tmp_path, monkeypatch, capsys):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "run_local", interrupted)
    argv = ["--datasets", "dtd", "--methods", "SEP", "--data", str(tmp_path), "--gpus", "0"]
    assert sweep.main([*argv, "--output", str(tmp_path / "out")]) == 130
    err = capsys.readouterr().err
    assert err.startswith("Interrupted: ") and err.count("\n") == 1


def test_torchrun_nproc_starts_train_py_under_torchrun(tmp_path):
    recorder = tmp_path / "python"
    recorder.write_text(f'#!/bin/bash\necho "$@" > {tmp_path}/argv\n')
    recorder.chmod(0o755)
    env = dict(os.environ, DATA=str(tmp_path), OUTPUT=str(tmp_path / "out"))
    env.update(PYTHON=str(recorder), TORCHRUN_NPROC="2")
    script = os.path.join(REPO_ROOT, "scripts", "coop", "base2new_train.sh")
    subprocess.run(["bash", script, "dtd", "1"], env=env, check=True, capture_output=True)
    argv = (tmp_path / "argv").read_text().split()
    assert argv[:6] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        os.path.join(REPO_ROOT, "train.py")]  # fmt: skip
    env["TORCHRUN_NPROC"] = "two"
    result = subprocess.run(["bash", script, "dtd", "1"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr == 'Error: TORCHRUN_NPROC must be a whole number >= 1, got "two".\n'
