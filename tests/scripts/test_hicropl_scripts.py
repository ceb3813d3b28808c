"""HiCroPL's scripts pick the authors' configs: few-shot, cross-dataset training and the
base-to-new config for every dataset (ImageNet included, as the authors' training script)."""

import os
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def printed_command(script, *args, tmp_path):
    env = dict(os.environ, DATA=str(tmp_path), OUTPUT=str(tmp_path), PYTHON="echo", SHOTS="16")
    result = subprocess.run(
        ["bash", os.path.join(REPO_ROOT, "scripts", "hicropl", script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]  # what train.py would have been given


@pytest.mark.parametrize(
    "script, args, config",
    [
        ("few_shot.sh", ("dtd", "1"), "vit_b16_c2_ep50_batch32_16ctx_few_shot.yaml"),
        ("xd_train.sh", ("1",), "vit_b16_c2_ep5_batch32_2ctx_cross_datasets.yaml"),
        ("base2new_train.sh", ("imagenet", "1"), "vit_b16_c2_ep50_batch32_16ctx.yaml"),
        ("base2new_train.sh", ("sun397", "1"), "vit_b16_c2_ep50_batch32_16ctx.yaml"),
    ],
)
def test_scripts_use_the_authors_config_of_their_protocol(script, args, config, tmp_path):
    command = printed_command(script, *args, tmp_path=tmp_path)
    assert f"configs/trainers/HiCroPL/{config}" in command
    assert "--trainer HiCroPL" in command
