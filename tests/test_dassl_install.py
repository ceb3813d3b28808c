"""README's two ways of using a real Dassl.pytorch work as written, given a checkout.

SEP_REAL_DASSL names a Dassl.pytorch checkout (as for tests/test_real_dassl_compat.py); without
it these tests are skipped. They install into a new virtual environment that sees this one's
packages (torch is not downloaded again) and need the package index for Dassl's requirements.
"""

import os
import subprocess
import sys
import venv

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL_DASSL = os.environ.get("SEP_REAL_DASSL")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not REAL_DASSL, reason="SEP_REAL_DASSL (a Dassl.pytorch checkout) is not set"
    ),
]

WHICH_DASSL = "import dassl_setup; print(dassl_setup.dassl_description())"


def run(command, env=None, cwd=REPO_ROOT):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    return result


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory):
    folder = tmp_path_factory.mktemp("venv")
    venv.create(folder, system_site_packages=True, with_pip=True)
    return str(folder / "bin" / "python")


def test_pip_install_editable_without_build_isolation_is_the_dassl_train_py_uses(fresh_python):
    checkout = os.path.abspath(REAL_DASSL)
    requirements = os.path.join(checkout, "requirements.txt")
    installed = run([fresh_python, "-m", "pip", "install", "-q", "-r", requirements])
    assert installed.returncode == 0, installed.stderr[-2000:]
    installed = run(
        [fresh_python, "-m", "pip", "install", "-q", "-e", ".", "--no-build-isolation"],
        cwd=checkout,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    described = run([fresh_python, "-c", WHICH_DASSL], env=env)
    assert described.returncode == 0, described.stderr
    assert described.stdout.startswith("Dassl.pytorch ")
    assert os.path.join(checkout, "dassl") in described.stdout


def test_pythonpath_route_uses_the_checkout_and_names_a_missing_requirement(fresh_python):
    checkout = os.path.abspath(REAL_DASSL)
    uninstalled = run([fresh_python, "-m", "pip", "uninstall", "-y", "-q", "dassl"])
    assert uninstalled.returncode == 0, uninstalled.stderr
    env = dict(os.environ, PYTHONPATH=checkout)
    described = run([fresh_python, "-c", WHICH_DASSL], env=env)
    assert described.returncode == 0, described.stderr
    assert os.path.join(checkout, "dassl") in described.stdout
    # this environment's python has not got Dassl's requirements: one line names the command
    missing = run([sys.executable, "train.py", "--help"], env=env)
    if missing.returncode == 0:
        pytest.skip("this environment already has every requirement of Dassl")
    assert missing.returncode == 2
    (line,) = [line for line in missing.stderr.splitlines() if not line.startswith(" ")][-1:]
    assert line.startswith(f"Error: the Dassl.pytorch at {checkout} needs the module ")
    assert line.endswith(f"pip install -r {os.path.join(checkout, 'requirements.txt')}")
