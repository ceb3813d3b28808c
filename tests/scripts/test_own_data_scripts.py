"""The scripts and sweeps take a user's dataset yaml where they take a dataset name; its file
stem names the dataset in the output folders."""

import os
import subprocess

from run import layout
from tools.sweeps.jobs import expand

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMON_SH = os.path.join(REPO_ROOT, "scripts", "common.sh")


def common_sh(function, *args, cwd=None):
    return subprocess.run(
        ["bash", "-c", f'source "$1"; shift; {function} "$@"', "common", COMMON_SH, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def test_dataset_config_takes_a_yaml_path_relative_to_the_callers_folder(tmp_path):
    (tmp_path / "my_pets.yaml").write_text('DATASET:\n  NAME: "ImageFolder"\n')
    found = common_sh("dataset_config", "my_pets.yaml", cwd=tmp_path)
    assert found.returncode == 0 and found.stdout.strip() == str(tmp_path / "my_pets.yaml")
    named = common_sh("dataset_config", "dtd")
    assert named.stdout.strip() == os.path.join(REPO_ROOT, "configs", "datasets", "dtd.yaml")


def test_missing_yaml_is_one_error_line(tmp_path):
    missing = common_sh("dataset_config", "nowhere.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip() == 'Error: dataset config "nowhere.yaml" is not a file.'


def test_dataset_name_is_the_yaml_stem():
    names = [layout.dataset_name(arg) for arg in ("a/b/pets.yaml", "a/b/pets.yml", "dtd")]
    assert names == ["pets", "pets", "dtd"]


def test_world_named_yaml_uses_the_world_method_config():
    configs = layout.MethodConfigs("vit")
    assert layout.config_for("base2new", "some/world_shapes.yaml", configs) == "world"
    assert layout.config_for("base2new", "some/pets.yaml", configs) == "vit"


def test_sweep_runs_the_yaml_and_names_folders_by_its_stem(tmp_path):
    yaml_path = str(tmp_path / "pets.yaml")
    ((train, test),) = [job.calls for job in expand("base2new", [yaml_path], [1], ["CoOp"], "out")]
    assert train.args[0] == yaml_path and test.args[0] == yaml_path
    assert f"{os.sep}base2new{os.sep}train_base{os.sep}pets{os.sep}shots_16{os.sep}" in (
        train.output_dir
    )
    assert f"{os.sep}test_new{os.sep}pets{os.sep}" in test.output_dir
