"""The README's "Your own data" commands, run as written in a fresh folder."""

import csv
import os
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The code the commands call by relative path (scripts/..., tools/..., predict.py); nothing the
# commands write (output/, my_data/, ...) is linked, so they write into the fresh folder only.
CODE_ENTRIES = (
    "configs",
    "dassl_setup.py",
    "dassl_subset",
    "datasets",
    "parse_test_res.py",
    "predict.py",
    "prompting",
    "run",
    "scripts",
    "tools",
    "train.py",
    "trainers",
)
RUN_FOLDER = "output/base2new/train_base/world_shapes/shots_16/SEP/world/seed1"


def readme_commands():
    """The bash block of the README's "Your own data" section."""
    with open(os.path.join(REPO_ROOT, "README.md"), encoding="utf-8") as file:
        text = file.read()
    section = text[text.index("## Your own data") :]
    section = section[: section.index("\n## ", 1)]
    return section.split("```bash\n", 1)[1].split("```", 1)[0]


def run_readme(workdir, home, shots=16, timeout=3600):
    """Run the commands in ``workdir`` with ``home`` as HOME (where the world configs find the
    world CLIP) and SHOTS ``shots``; returns the completed process."""
    for name in CODE_ENTRIES:
        os.symlink(os.path.join(REPO_ROOT, name), os.path.join(workdir, name))
    commands = readme_commands().replace("shots_16", f"shots_{shots}")
    env = dict(
        os.environ,
        HOME=str(home),
        SHOTS=str(shots),
        PYTHON=sys.executable,
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
    )
    env.pop("XDG_CACHE_HOME", None)
    env.pop("DATA", None)
    env.pop("OUTPUT", None)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def check_outcome(workdir, completed, shots=16):
    """What a user following the section sees; returns the top-1 accuracy of answers.csv."""
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert os.path.isfile(os.path.join(workdir, "my_data", "shapes", "split_zhou_shapes.json"))
    table = completed.stdout
    assert "world_shapes" in table
    for method in ("SEP", "CoOp"):
        assert any(line.lstrip().startswith(method) for line in table.splitlines()), table
        for stage in ("train_base", "test_new"):
            run = RUN_FOLDER.replace("shots_16", f"shots_{shots}").replace("train_base", stage)
            assert os.path.isfile(os.path.join(workdir, run.replace("SEP", method), "result.json"))
    with open(os.path.join(workdir, "answers.csv")) as file:
        rows = list(csv.DictReader(file))
    with open(os.path.join(workdir, "new_classes.txt")) as file:
        classes = [line.strip() for line in file if line.strip()]
    assert len(classes) == 16 and len(rows) == 16 * 3
    assert {row["class"] for row in rows} <= set(classes)
    top1 = [row for row in rows if row["rank"] == "1"]
    truth = [os.path.basename(os.path.dirname(row["image"])).replace("_", " ") for row in top1]
    return sum(row["class"] == name for row, name in zip(top1, truth)) / len(top1)
