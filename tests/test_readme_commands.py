"""Every command block of README.md is run by a test or by the demo.

The blocks that run on the toy data are run here as written (in a folder that mirrors the
repository, so their relative paths mean what they say); the sweep commands for real clusters
are run with --dry-run; the others name the test that runs their command.
"""

import os
import re
import shlex
import subprocess
import sys

import pytest

from tools import sweep

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO_ROOT, "README.md")

# The first line of each bash block -> what runs its commands.
EXERCISED_BY = {
    "python3 -m venv .venv": "scripts/demo.sh (the quick start; run by hand, not in CI)",
    "python -m pytest -q": ".ci/run",
    "bash scripts/world_benchmark.sh": "scripts/world_benchmark.sh (the recorded benchmark)",
    "export DATA=/path/to/datasets\nfor seed": (
        "tests/scripts/test_baseline_scripts.py::"
        "test_base2new_scripts_write_results_and_skip_finished_jobs"
    ),
    "torchrun --standalone --nproc_per_node 4": (
        "tests/distributed/test_torchrun_matches_one_process.py::"
        "test_two_processes_train_and_test_as_one_process_with_the_same_global_batch"
    ),
    "python tools/make_toy_data.py --root toy_data": (
        "tests/test_readme_commands.py::test_toy_blocks_run_as_written"
    ),
    "export DATA=/path/to/datasets\n# local GPUs": (
        "tests/test_readme_commands.py::test_cluster_sweep_commands_parse_and_plan"
    ),
    "python tools/sweep.py --datasets caltech101": (
        "tests/test_readme_commands.py::test_toy_blocks_run_as_written"
    ),
    "git clone https://github.com/KaiyangZhou/Dassl.pytorch": (
        "tests/test_dassl_install.py::"
        "test_pip_install_editable_without_build_isolation_is_the_dassl_train_py_uses"
    ),
    "# 1. A folder of class sub-folders": (
        "tests/world/test_own_data_readme_world.py::"
        "test_readme_own_data_commands_with_the_world_clip"
    ),
    "python tools/convert_authors_checkpoint.py": (
        "tests/tools/test_convert_authors_checkpoint.py::"
        "test_promptsrc_checkpoint_evaluates_through_the_trainer"
    ),
}


def bash_blocks():
    with open(README) as file:
        return re.findall(r"```bash\n(.*?)```", file.read(), flags=re.DOTALL)


def block_starting(prefix):
    (block,) = [block for block in bash_blocks() if block.startswith(prefix)]
    return block


def commands(block):
    """The block's commands, continuation lines joined, comments and blank lines dropped."""
    joined = block.replace("\\\n", " ")
    lines = [line.split("  #")[0].strip() for line in joined.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_every_bash_block_is_exercised_and_each_named_test_exists():
    for block in bash_blocks():
        owners = [prefix for prefix in EXERCISED_BY if block.startswith(prefix)]
        assert len(owners) == 1, f"README block not covered by one entry:\n{block}"
        owner = EXERCISED_BY[owners[0]]
        path = owner.split("::")[0].split(" ")[0]
        assert os.path.exists(os.path.join(REPO_ROOT, path)), owner
        if "::" in owner:
            with open(os.path.join(REPO_ROOT, path)) as file:
                assert f"def {owner.split('::')[1]}(" in file.read(), owner


def test_cluster_sweep_commands_parse_and_plan(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA", str(tmp_path))
    monkeypatch.setenv("OUTPUT", str(tmp_path / "output"))
    ran = 0
    for command in commands(block_starting("export DATA=/path/to/datasets\n# local GPUs")):
        if not command.startswith("python tools/sweep.py") or "..." in command:
            continue
        argv = shlex.split(command)[2:]
        assert sweep.main([*argv, "--dry-run"]) == 0, command
        ran += 1
    assert ran == 4
    printed = capsys.readouterr().out
    assert "'slurm_account': 'proj42'" in printed and "'gpus_per_node': 4" in printed
    assert "TORCHRUN_NPROC=4" in printed


def mirror_of_the_repository(folder):
    """``folder`` with a link to every top-level entry of the repository (no output folders)."""
    for name in os.listdir(REPO_ROOT):
        if name not in ("output", "toy_data", "bin") and not name.startswith("."):
            os.symlink(os.path.join(REPO_ROOT, name), os.path.join(folder, name))


def tools_bin(folder):
    """This interpreter as ``python`` and ``torchrun`` (README: ``python -m
    torch.distributed.run`` is the same command; a torch installed without its console script
    has no ``torchrun``)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    for name, arguments in (("python", ""), ("torchrun", "-m torch.distributed.run")):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/bash\nexec "{sys.executable}" {arguments} "$@"\n')
        shim.chmod(0o755)
    return bin_dir


@pytest.mark.slow
def test_toy_blocks_run_as_written(tmp_path):
    mirror_of_the_repository(tmp_path)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(tools_bin(tmp_path)), env["PATH"]])
    env.pop("CUDA_VISIBLE_DEVICES", None)
    for prefix in ("python tools/make_toy_data.py", "python tools/sweep.py --datasets caltech101"):
        for command in commands(block_starting(prefix)):
            result = subprocess.run(
                command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                timeout=1800,
            )  # fmt: skip
            assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}{result.stderr}"
    assert os.path.isfile(tmp_path / "output" / "ddp_demo" / "result.json")
    assert "HM" in result.stdout  # the sweep's table
