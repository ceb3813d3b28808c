"""The CoOp family's own script names and arguments (scripts/coop/main.sh, eval.sh, zeroshot.sh,
scripts/zsclip/zeroshot.sh, MaPLe's *_maple.sh, IVLP's *_ivlp.sh) run this repository's scripts:
the same train.py calls, so the same run folders. train.py is replaced by a recorder that notes
its arguments and marks the run finished."""

import os
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDER = """#!/bin/bash
printf '%s\\n' "$*" >> "$RECORD"
while [ "$#" -gt 0 ]; do
    if [ "$1" = --output-dir ]; then mkdir -p "$2"; echo '{}' > "$2/result.json"; fi
    shift
done
"""


@pytest.fixture
def family(tmp_path):
    """``family(script, *args, shots=None)`` runs scripts/<script>; returns (result, the
    train.py argument lists it made)."""
    recorder = tmp_path / "python"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    (tmp_path / "data").mkdir()

    def run(script, *args, shots=None, **env_extra):
        record = tmp_path / "record.txt"
        record.write_text("")
        env = {key: value for key, value in os.environ.items() if key not in ("SHOTS", "OUTPUT")}
        env.update(DATA=str(tmp_path / "data"), OUTPUT=str(tmp_path / "out"))
        env.update(PYTHON=str(recorder), RECORD=str(record), **env_extra)
        if shots is not None:
            env["SHOTS"] = str(shots)
        result = subprocess.run(
            ["bash", os.path.join(REPO_ROOT, "scripts", script), *map(str, args)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        calls = [line.split() for line in record.read_text().splitlines()]
        return result, calls

    return run


def flag(call, name):
    return call[call.index(name) + 1] if name in call else None


def output_dirs(calls):
    return [flag(call, "--output-dir") for call in calls]


def assert_already_run(result, folders):
    """The plain script, run after the family's, finds the family's runs as its own."""
    for folder in folders:
        assert f"Results are available in {folder}. Skip this job" in result.stdout


def test_coop_main_is_few_shot_coop_for_seeds_1_to_3(family):
    result, calls = family("coop/main.sh", "caltech101", "vit_b16_ep50_ctxv1", "end", 16, 1, False)
    assert result.returncode == 0, result.stderr
    assert [flag(call, "--seed") for call in calls] == ["1", "2", "3"]
    assert all("/few_shot/caltech101/shots_1/CoOp/" in folder for folder in output_dirs(calls))
    assert all(" DATASET.NUM_SHOTS 1 " in " ".join(call) + " " for call in calls)
    for seed, folder in zip((1, 2, 3), output_dirs(calls)):
        ours, none = family(
            "coop/few_shot.sh", "caltech101", seed, "TRAINER.COOP.N_CTX", 16, shots=1
        )
        assert none == []
        assert_already_run(ours, [folder])


def test_coop_main_passes_class_position_and_class_specific_context_as_options(family):
    result, calls = family("coop/main.sh", "dtd", "vit_b16_ep50_ctxv1", "middle", 8, 4, True)
    assert result.returncode == 0, result.stderr
    text = " ".join(calls[0])
    assert "TRAINER.COOP.N_CTX 8" in text
    assert "TRAINER.COOP.CLASS_TOKEN_POSITION middle" in text
    assert "TRAINER.COOP.CSC True" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (("dtd", "rn50_ep50", "end", 16, 1, False), 'Error: no config "rn50_ep50" for CoOp'),
        (("dtd", "vit_b16_ep50_ctxv1", "left", 16, 1, False), "Error: the class token position"),
        (("dtd", "vit_b16_ep50_ctxv1", "end", "x", 1, False), "Error: NCTX must be"),
        (("dtd", "vit_b16_ep50_ctxv1", "end", 16, 1, "yes"), "Error: CSC must be True or False"),
        (("dtd", "vit_b16_ep50_ctxv1"), "Error: usage: bash"),
    ],
)
def test_coop_main_refuses_what_it_cannot_honour_in_one_line(family, args, message):
    result, calls = family("coop/main.sh", *args)
    assert result.returncode == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert calls == []


def test_coop_eval_transfers_the_imagenet_model_of_main(family):
    result, trained = family("coop/main.sh", "imagenet", "vit_b16_ep50_ctxv1", "end", 16, 16, False)
    assert result.returncode == 0, result.stderr
    assert all("/cross_dataset/train/imagenet/shots_16/CoOp/" in d for d in output_dirs(trained))
    result, evaluated = family("coop/eval.sh", "imagenetv2", "vit_b16_ep50_ctxv1")
    assert result.returncode == 0, result.stderr
    assert [flag(call, "--model-dir") for call in evaluated] == output_dirs(trained)
    assert all("--eval-only" in call for call in evaluated)
    folders = output_dirs(evaluated)
    assert all("/domain_generalization/test/imagenetv2/shots_16/CoOp/" in d for d in folders)


@pytest.mark.parametrize("script", ["coop/zeroshot.sh", "zsclip/zeroshot.sh"])
def test_zeroshot_is_zero_shot_clip_on_the_transfer_protocols(family, script):
    result, calls = family(script, "dtd", "vit_b16")
    assert result.returncode == 0, result.stderr
    (call,) = calls
    assert "--eval-only" in call and "--model-dir" not in call
    assert "/cross_dataset/test/dtd/shots_16/ZeroshotCLIP/vit_b16/seed1" in flag(
        call, "--output-dir"
    )
    assert flag(call, "--trainer") == "ZeroshotCLIP"
    result, (call,) = family(script, "imagenet", "vit_b16")
    assert "/cross_dataset/train/imagenet/shots_16/ZeroshotCLIP/vit_b16/seed1" in flag(
        call, "--output-dir"
    )
    result, calls = family(script, "imagenet_r", "vit_b16")
    assert "/domain_generalization/test/imagenet_r/" in flag(calls[0], "--output-dir")
    result, calls = family(script, "dtd", "rn50")
    assert result.returncode == 2 and calls == []
    assert result.stderr.startswith('Error: no config "rn50" for ZeroshotCLIP')


@pytest.mark.parametrize(
    "family_script, ours, args",
    [
        ("maple/base2new_train_maple.sh", "maple/base2new_train.sh", ("dtd", 1)),
        ("maple/base2new_test_maple.sh", "maple/base2new_test.sh", ("dtd", 1)),
        ("maple/xd_train_maple.sh", "maple/xd_train.sh", ("imagenet", 2)),
        ("maple/xd_test_maple.sh", "maple/xd_test.sh", ("eurosat", 2)),
    ],
)
def test_maple_names_run_the_maple_scripts(family, family_script, ours, args):
    if "test" in ours:  # a finished training first
        train = ours.replace("test", "train")
        family(train, *(args if "base2new" in ours else args[1:]))
    result, calls = family(family_script, *args)
    assert result.returncode == 0, result.stderr
    assert calls
    plain, none = family(ours, *args)
    assert none == []
    assert_already_run(plain, output_dirs(calls))


def test_family_cross_dataset_test_of_an_imagenet_variant_is_domain_generalisation(family):
    family("maple/xd_train_maple.sh", "imagenet", 1)
    result, calls = family("maple/xd_test_maple.sh", "imagenet_a", 1)
    assert result.returncode == 0, result.stderr
    assert "/domain_generalization/test/imagenet_a/shots_16/MaPLe/" in flag(
        calls[0], "--output-dir"
    )


def test_xd_train_refuses_a_training_set_other_than_imagenet(family):
    result, calls = family("maple/xd_train_maple.sh", "dtd", 1)
    assert result.returncode == 2 and calls == []
    assert result.stderr.startswith("Error: ") and "trains on ImageNet only" in result.stderr


def test_ivlp_names_run_ivlp_with_the_config_of_maples_repository(family):
    result, calls = family("independent-vlp/base2new_train_ivlp.sh", "dtd", 1)
    assert result.returncode == 0, result.stderr
    assert flag(calls[0], "--trainer") == "IVLP"
    assert flag(calls[0], "--config-file").endswith("IVLP/vit_b16_c2_ep5_batch4_2+2ctx.yaml")
    assert "/IVLP/vit_b16_c2_ep5_batch4_2+2ctx/seed1" in flag(calls[0], "--output-dir")


def test_few_shot_without_shots_is_refused_not_run_as_another_seed(family):
    # PromptSRC's own few_shot.sh takes "DATASET SHOTS"; here the second argument is the seed
    result, calls = family("promptsrc/few_shot.sh", "dtd", 4)
    assert result.returncode == 2 and calls == []
    assert result.stderr.startswith("Error: set SHOTS for few-shot runs: SHOTS=4 bash ")


def test_every_method_that_trains_has_a_few_shot_script(family):
    methods = [
        name
        for name in sorted(os.listdir(os.path.join(REPO_ROOT, "scripts")))
        if os.path.isfile(os.path.join(REPO_ROOT, "scripts", name, "base2new_train.sh"))
    ]
    assert len(methods) >= 8  # the seven methods here and zero-shot CLIP, and any added since
    for method in methods:
        result, calls = family(f"{method}/few_shot.sh", "dtd", 1, shots=4)
        assert result.returncode == 0, (method, result.stderr)
        assert "/few_shot/dtd/shots_4/" in flag(calls[0], "--output-dir")
