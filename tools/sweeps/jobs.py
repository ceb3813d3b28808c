"""A sweep's jobs: protocol x datasets x seeds x methods, as the scripts run them.

A job is the script calls that depend on each other, in order (base-to-new: train on the base
classes, then test on the new ones; cross-dataset: the ImageNet training, then every target).
Each call is ``bash scripts/<method>/<script>.sh ARGS [yacs options]``; its output folder comes
from run/layout.py, which the scripts ask too, with the configs the script itself declares
(``SEP_DESCRIBE_METHOD=1``, scripts/common.sh), so a finished call can be skipped without
starting anything (the scripts themselves also skip finished runs and resume unfinished ones).
"""

import functools
import os
import shlex
import subprocess
from dataclasses import dataclass

from run import layout
from tools.results.protocols import ELEVEN_DATASETS, IMAGENET_VARIANTS

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS_DIR = os.path.join(REPO_ROOT, "scripts")
RESULT_FILE = "result.json"
PROTOCOLS = tuple(layout.STAGES)
# Target datasets when --datasets is not given (the training data set is ImageNet).
DEFAULT_TARGETS = {
    "cross_dataset": tuple(name for name in ELEVEN_DATASETS if name != "imagenet"),
    "domain_generalization": IMAGENET_VARIANTS,
}


class SweepError(ValueError):
    """A sweep that cannot be expanded (unknown method, a script the method does not have)."""


@dataclass(frozen=True)
class ScriptCall:
    script: str  # path relative to the repository, e.g. scripts/sep/base2new_train.sh
    args: tuple  # positional arguments and yacs options
    output_dir: str

    def command(self, repo_root=""):
        return shlex.join(["bash", os.path.join(repo_root, self.script), *self.args])

    def finished(self):
        return os.path.isfile(os.path.join(self.output_dir, RESULT_FILE))


@dataclass(frozen=True)
class Job:
    name: str
    calls: tuple

    def status(self):
        """ "finished" (every call has its result), "unfinished" (some output exists) or "new"."""
        if all(call.finished() for call in self.calls):
            return "finished"
        if any(os.path.isdir(call.output_dir) for call in self.calls):
            return "unfinished"
        return "new"


@functools.cache
def script_variables(path):
    """The TRAINER and configs a method script declares (asked from the script itself)."""
    result = subprocess.run(
        ["bash", path],
        env=dict(os.environ, SEP_DESCRIBE_METHOD="1"),
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


def method_folders():
    """Trainer name -> its folder under scripts/ (read from each folder's base2new_train.sh)."""
    folders = {}
    for folder in sorted(os.listdir(SCRIPTS_DIR)):
        train_script = os.path.join(SCRIPTS_DIR, folder, "base2new_train.sh")
        if os.path.isfile(train_script):
            folders[script_variables(train_script)["TRAINER"]] = folder
    return folders


# The scripts' entry points: script -> (protocol, stage) in run/layout.py.
SCRIPT_STAGES = {
    "base2new_train.sh": ("base2new", "train_base"),
    "base2new_test.sh": ("base2new", "test_new"),
    "xd_train.sh": ("cross_dataset", "train"),
    "xd_test.sh": ("cross_dataset", "test"),
    "dg_test.sh": ("domain_generalization", "test"),
    "few_shot.sh": ("few_shot", "train"),
}


dataset_name = layout.dataset_name


class MethodScripts:
    """One method's scripts and the output folders they write under ``output``."""

    def __init__(self, trainer, folder, output, shots, opts):
        self.trainer = trainer
        self.folder = folder
        self.output = os.path.abspath(output)
        self.shots = shots
        self.opts = tuple(map(str, opts))

    def call(self, script, positional, dataset=layout.SOURCE_DATASET):
        """The call of ``script`` with ``positional`` arguments (the seed last) and its folder."""
        path = os.path.join(SCRIPTS_DIR, self.folder, script)
        if not os.path.isfile(path):
            raise SweepError(f"{self.trainer} has no {script} (scripts/{self.folder}/)")
        variables = script_variables(path)
        configs = layout.MethodConfigs(
            variables["CFG"], variables.get("LARGE_CFG", ""), variables.get("XD_CFG", "")
        )
        protocol, stage = SCRIPT_STAGES[script]
        runs = layout.MethodRuns(
            self.output, self.trainer, configs, positional[-1], self.shots, self.opts
        )
        run = runs.run(protocol, stage, str(dataset))
        relative = os.path.relpath(path, REPO_ROOT)
        return ScriptCall(relative, (*map(str, positional), *self.opts), run.folder)

    def base2new(self, dataset, seed):
        return (
            self.call("base2new_train.sh", (dataset, seed), dataset),
            self.call("base2new_test.sh", (dataset, seed), dataset),
        )

    def xd_train(self, seed):
        return self.call("xd_train.sh", (seed,))

    def transfer(self, protocol, dataset, seed):
        script = "xd_test.sh" if protocol == "cross_dataset" else "dg_test.sh"
        return self.call(script, (dataset, seed), dataset)

    def few_shot(self, dataset, seed):
        return self.call("few_shot.sh", (dataset, seed), dataset)


def expand(protocol, datasets, seeds, methods, output, shots=16, opts=()):
    """The sweep's jobs, in the order given (methods, then datasets or seeds)."""
    folders = method_folders()
    unknown = [method for method in methods if method not in folders]
    if unknown:
        raise SweepError(f"Unknown method(s) {unknown}; known: {sorted(folders)}")
    if protocol not in PROTOCOLS:
        raise SweepError(f"Unknown protocol {protocol!r}; known: {PROTOCOLS}")
    jobs = []
    for method in methods:
        scripts = MethodScripts(method, folders[method], output, shots, opts)
        for seed in seeds:
            if protocol in DEFAULT_TARGETS:
                targets = datasets or DEFAULT_TARGETS[protocol]
                calls = (scripts.xd_train(seed),) + tuple(
                    scripts.transfer(protocol, dataset, seed) for dataset in targets
                )
                jobs.append(Job(f"{protocol}-{method}-seed{seed}", calls))
                continue
            if not datasets:
                raise SweepError(f"--datasets is required for {protocol}")
            for dataset in datasets:
                calls = (
                    scripts.base2new(dataset, seed)
                    if protocol == "base2new"
                    else (scripts.few_shot(dataset, seed),)
                )
                jobs.append(Job(f"{protocol}-{method}-{dataset_name(dataset)}-seed{seed}", calls))
    return jobs


def job_shell_line(job, environment, workdir):
    """One bash line running ``job``'s calls in order in ``workdir`` (where relative paths in
    the options were meant), stopping at the first failure; ``environment``: variables the
    scripts read (DATA, OUTPUT, SHOTS, PYTHON)."""
    exports = " ".join(f"{name}={shlex.quote(str(value))}" for name, value in environment.items())
    calls = " && ".join(call.command(REPO_ROOT) for call in job.calls)
    return f"cd {shlex.quote(workdir)} && export {exports} && {calls}"
