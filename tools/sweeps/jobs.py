"""A sweep's jobs: protocol x datasets x seeds x methods, as the scripts run them.

A job is the script calls that depend on each other, in order (base-to-new: train on the base
classes, then test on the new ones; cross-dataset: the ImageNet training, then every target).
Each call is ``bash scripts/<method>/<script>.sh ARGS [yacs options]``; its output folder is
computed here the way ``scripts/common.sh`` names it, so a finished call can be skipped without
starting anything (the scripts themselves also skip finished runs and resume unfinished ones).
"""

import functools
import os
import re
import shlex
import subprocess
from dataclasses import dataclass

from tools.results.protocols import ELEVEN_DATASETS, IMAGENET_VARIANTS, LARGE_CONFIG_DATASETS

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS_DIR = os.path.join(REPO_ROOT, "scripts")
COMMON_SH = os.path.join(SCRIPTS_DIR, "common.sh")
RESULT_FILE = "result.json"
PROTOCOLS = ("base2new", "cross_dataset", "domain_generalization", "few_shot")
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


def script_variables(path):
    """The ``NAME=value`` lines a method script sets (TRAINER, CFG, LARGE_CFG, XD_CFG)."""
    with open(path) as file:
        return dict(re.findall(r"^([A-Z_]+)=(\S+)$", file.read(), flags=re.MULTILINE))


def method_folders():
    """Trainer name -> its folder under scripts/ (read from each folder's base2new_train.sh)."""
    folders = {}
    for folder in sorted(os.listdir(SCRIPTS_DIR)):
        train_script = os.path.join(SCRIPTS_DIR, folder, "base2new_train.sh")
        if os.path.isfile(train_script):
            folders[script_variables(train_script)["TRAINER"]] = folder
    return folders


@functools.cache
def run_tag(cfg, opts):
    """The scripts' run folder name (the config, tagged with a hash of the extra options), from
    scripts/common.sh's own ``run_tag``, so that the two never disagree."""
    result = subprocess.run(
        ["bash", "-c", 'source "$1"; shift; run_tag "$@"', "run_tag", COMMON_SH, cfg, *opts],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@functools.cache
def dataset_name(dataset):
    """A dataset's name in run folders: itself, or a user's dataset yaml's file stem, from
    scripts/common.sh's own ``dataset_name``."""
    result = subprocess.run(
        ["bash", "-c", 'source "$1"; dataset_name "$2"', "dataset_name", COMMON_SH, dataset],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


class MethodScripts:
    """One method's scripts and the output folders they write under ``output``."""

    def __init__(self, trainer, folder, output, shots, opts):
        self.trainer = trainer
        self.folder = folder
        self.output = os.path.abspath(output)
        self.shots = shots
        self.opts = tuple(map(str, opts))

    def call(self, script, positional, folders, dataset=None):
        """The call of ``script`` with ``positional`` arguments; its output folder is
        ``output/<folders>/shots_K/<TRAINER>/<tag>/seed<S>`` (the seed is the last argument)."""
        path = os.path.join(SCRIPTS_DIR, self.folder, script)
        if not os.path.isfile(path):
            raise SweepError(f"{self.trainer} has no {script} (scripts/{self.folder}/)")
        tag = run_tag(self.config(path, script, dataset), self.opts)
        seed = f"seed{positional[-1]}"
        output_dir = os.path.join(
            self.output, *folders, f"shots_{self.shots}", self.trainer, tag, seed
        )
        relative = os.path.relpath(path, REPO_ROOT)
        return ScriptCall(relative, (*map(str, positional), *self.opts), output_dir)

    @staticmethod
    def config(path, script, dataset):
        """The config a script uses, as scripts/common.sh picks it."""
        variables = script_variables(path)
        if script.startswith(("xd_", "dg_")):
            return variables.get("XD_CFG", variables["CFG"])
        if dataset in LARGE_CONFIG_DATASETS:
            return variables.get("LARGE_CFG", variables["CFG"])
        return variables["CFG"]

    def base2new(self, dataset, seed):
        return (
            self.call(
                "base2new_train.sh",
                (dataset, seed),
                ("base2new", "train_base", dataset_name(dataset)),
                dataset,
            ),
            self.call(
                "base2new_test.sh",
                (dataset, seed),
                ("base2new", "test_new", dataset_name(dataset)),
                dataset,
            ),
        )

    def xd_train(self, seed):
        return self.call("xd_train.sh", (seed,), ("cross_dataset", "train", "imagenet"))

    def transfer(self, protocol, dataset, seed):
        script = "xd_test.sh" if protocol == "cross_dataset" else "dg_test.sh"
        if dataset in IMAGENET_VARIANTS:  # the scripts file these under domain generalisation
            protocol = "domain_generalization"
        return self.call(script, (dataset, seed), (protocol, "test", dataset_name(dataset)))

    def few_shot(self, dataset, seed):
        return self.call(
            "few_shot.sh", (dataset, seed), ("few_shot", dataset_name(dataset)), dataset
        )


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
