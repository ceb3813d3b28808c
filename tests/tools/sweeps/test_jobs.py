"""Expanding a sweep into the scripts' calls and their output folders (tools/sweeps/jobs.py)."""

import hashlib
import os
import re

import pytest

from tools.sweeps.jobs import REPO_ROOT, SweepError, expand, job_shell_line


def test_base2new_is_one_train_then_test_job_per_method_dataset_and_seed():
    jobs = expand("base2new", ["dtd", "imagenet"], [1, 2], ["SEP", "CoOp"], "/out")
    assert [job.name for job in jobs] == [
        f"base2new-{method}-{dataset}-seed{seed}"
        for method in ("SEP", "CoOp")
        for seed in (1, 2)
        for dataset in ("dtd", "imagenet")
    ]
    train, test = jobs[0].calls
    assert train.command() == "bash scripts/sep/base2new_train.sh dtd 1"
    assert test.command() == "bash scripts/sep/base2new_test.sh dtd 1"
    assert (
        train.output_dir == "/out/base2new/train_base/dtd/shots_16/SEP/vit_b16_ep50_batch32/seed1"
    )
    assert test.output_dir == "/out/base2new/test_new/dtd/shots_16/SEP/vit_b16_ep50_batch32/seed1"
    # ImageNet and SUN397 run SEP's large config (LARGE_CFG of the script)
    assert jobs[1].calls[0].output_dir.endswith("imagenet/shots_16/SEP/vit_b16_ep10_batch128/seed1")


def test_extra_options_go_to_every_call_and_name_the_folder_as_the_scripts_do():
    opts = ["OPTIM.MAX_EPOCH", "2"]
    (job,) = expand("base2new", ["dtd"], [1], ["CoOp"], "/out", shots=4, opts=opts)
    # scripts/common.sh: printf '%s\n' OPTS | sha1sum | cut -c1-8
    digest = hashlib.sha1(b"OPTIM.MAX_EPOCH\n2\n").hexdigest()[:8]
    assert job.calls[0].command() == "bash scripts/coop/base2new_train.sh dtd 1 OPTIM.MAX_EPOCH 2"
    assert job.calls[1].output_dir == (
        f"/out/base2new/test_new/dtd/shots_4/CoOp/vit_b16_ep50_ctxv1_opts-{digest}/seed1"
    )
    # as the scripts name it, the same options in another order are the same folder
    swapped = expand("base2new", ["dtd"], [1], ["CoOp"], "/out", opts=["A.B", "1", "C.D", "2"])
    ordered = expand("base2new", ["dtd"], [1], ["CoOp"], "/out", opts=["C.D", "2", "A.B", "1"])
    assert swapped[0].calls[0].output_dir == ordered[0].calls[0].output_dir


def test_cross_dataset_job_trains_on_imagenet_once_then_tests_every_target():
    (job,) = expand("cross_dataset", ["dtd", "eurosat"], [3], ["SEP"], "/out")
    assert [call.command() for call in job.calls] == [
        "bash scripts/sep/xd_train.sh 3",
        "bash scripts/sep/xd_test.sh dtd 3",
        "bash scripts/sep/xd_test.sh eurosat 3",
    ]
    tag = "SEP/vit_b16_ep3_batch32_xd/seed3"
    assert job.calls[0].output_dir == f"/out/cross_dataset/train/imagenet/shots_16/{tag}"
    assert job.calls[2].output_dir == f"/out/cross_dataset/test/eurosat/shots_16/{tag}"


def test_domain_generalization_defaults_to_the_four_imagenet_variants():
    (job,) = expand("domain_generalization", None, [1], ["CoOp"], "/out")
    assert [call.command() for call in job.calls[1:]] == [
        f"bash scripts/coop/dg_test.sh {name} 1"
        for name in ("imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r")
    ]


@pytest.mark.parametrize(
    "protocol,methods,message",
    [
        ("cross_dataset", ["SEP", "SEEP"], "Unknown method(s) ['SEEP']"),
        ("base2new", ["SEEP"], "Unknown method(s) ['SEEP']"),
    ],
)
def test_sweeps_the_scripts_cannot_run_are_refused(protocol, methods, message):
    with pytest.raises(SweepError, match=re.escape(message)):
        expand(protocol, ["dtd"], [1], methods, "/out")


def test_status_follows_the_result_files(tmp_path):
    (job,) = expand("base2new", ["dtd"], [1], ["CoOp"], str(tmp_path))
    assert job.status() == "new"
    train, test = job.calls
    (tmp_path / train.output_dir).mkdir(parents=True)
    assert job.status() == "unfinished"
    for call in job.calls:
        (tmp_path / call.output_dir).mkdir(parents=True, exist_ok=True)
        (tmp_path / call.output_dir / "result.json").write_text("{}")
    assert job.status() == "finished"


def test_a_job_is_one_shell_line_stopping_at_the_first_failing_call():
    (job,) = expand("base2new", ["dtd"], [1], ["CoOp"], "/out")
    line = job_shell_line(job, {"DATA": "/data", "OUTPUT": "/out"}, "/work dir")
    scripts = os.path.join(REPO_ROOT, "scripts", "coop")
    assert line == (
        "cd '/work dir' && export DATA=/data OUTPUT=/out && "
        f"bash {scripts}/base2new_train.sh dtd 1 && bash {scripts}/base2new_test.sh dtd 1"
    )


def test_a_cross_dataset_imagenet_variant_is_found_where_the_scripts_file_it():
    (job,) = expand("cross_dataset", ["imagenet_a"], [1], ["CoOp"], "/out")
    assert job.calls[1].command() == "bash scripts/coop/xd_test.sh imagenet_a 1"
    assert job.calls[1].output_dir.startswith("/out/domain_generalization/test/imagenet_a/")
