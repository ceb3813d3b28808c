"""The packages form layers and every import points down: the Dassl subset imports nothing from
the project; the ground floor (run/: errors, config, result files, layout) imports no project
package above it; datasets and the model pieces (prompting/) import only the ground floor;
trainers import those; what checks a whole run's inputs (launch/), the tools and the benchmarks
sit on top. Read from the source, so a new upward import fails here with the file and line."""

import ast
import os

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = {
    "dassl_subset": -1,  # the engine subset imports nothing from the project
    "run": 0,
    "datasets": 1,
    "prompting": 1,
    "trainers": 2,
    "launch": 3,
    "tools": 3,
    "benchmarks": 4,
}
# Same-layer packages that must not know each other either.
INDEPENDENT = {("datasets", "prompting"), ("prompting", "datasets")}


def project_imports(path):
    """(line, top-level project package) of every import in ``path``, relative ones resolved."""
    with open(path) as file:
        tree = ast.parse(file.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in LAYERS:
                yield node.lineno, top


def package_files(package):
    for folder, _, files in os.walk(os.path.join(REPO_ROOT, package)):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(folder, name)


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_no_import_runs_up_the_layers(package):
    upward = [
        f"{os.path.relpath(path, REPO_ROOT)}:{line} imports {imported}"
        for path in package_files(package)
        for line, imported in project_imports(path)
        if LAYERS[imported] > LAYERS[package] or (package, imported) in INDEPENDENT
    ]
    assert upward == []


def test_the_check_reads_imports_of_every_form(tmp_path):
    source = tmp_path / "example.py"
    source.write_text(
        "import trainers.sep\nfrom tools.sweeps import jobs\nfrom . import x\nimport os\n"
    )
    assert list(project_imports(str(source))) == [(1, "trainers"), (2, "tools")]
