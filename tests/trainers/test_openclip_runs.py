"""Every method on an OpenCLIP model end to end: a tiny random OpenCLIP ViT (GELU, built from
its config, written as an OpenCLIP model folder) as ``MODEL.BACKBONE.NAME
openclip:local-dir:<folder>``, through the base-to-new scripts (train on base classes, evaluate
on new ones), resumed after a stop, and in two processes."""

import json
import os

import pytest
import torch
from dassl.engine import TRAINER_REGISTRY

from tests.distributed.test_torchrun_matches_one_process import (
    EXACT_OPTIONS,
    assert_same_run,
    one_process,
    torchrun,
    trained_weights_rtol,
)
from tests.reliability.conftest import toy_paths
from tests.reliability.test_resume_every_trainer import (
    Stopped,
    assert_identical,
    final_state,
    stop_after_epoch,
)
from tests.reliability.train_args import toy_argv
from tests.scripts.test_baseline_scripts import (
    METHODS,
    SHOTS,
    only_match,
    run_script,
    toy_options,
)
from tests.trainers.helpers import BATCH_COUPLED_METHODS, TRAINED_METHODS, make_trainer
from tools.make_tiny_openclip import build_tiny_openclip, write_tiny_openclip


@pytest.fixture(scope="module")
def openclip_name(tmp_path_factory):
    folder = write_tiny_openclip(str(tmp_path_factory.mktemp("openclip") / "tiny"), seed=0)
    return f"openclip:local-dir:{folder}"


def with_backbone(options, name):
    """``options`` with MODEL.BACKBONE.NAME set to ``name``."""
    options = list(options)
    options[options.index("MODEL.BACKBONE.NAME") + 1] = name
    return options


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(METHODS))
def test_base2new_scripts_train_and_evaluate_new_classes_on_openclip(
    method, openclip_name, toy_data_root, tmp_path
):
    trainer, config = METHODS[method]
    options = toy_options(toy_data_root, method)  # this method's depths included
    arguments = ("caltech101", "1", *with_backbone(options, openclip_name))
    run_dirs = {}
    for phase, split, subsample in (("train", "train_base", "base"), ("test", "test_new", "new")):
        result = run_script(
            f"{method}/base2new_{phase}.sh", *arguments, data=toy_data_root, output=tmp_path
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        run_dir = only_match(
            f"{tmp_path}/base2new/{split}/caltech101/shots_{SHOTS}/{trainer}/{config}_opts-*/seed1"
        )
        with open(os.path.join(run_dir, "result.json")) as file:
            record = json.load(file)
        assert (record["method"], record["subsample"], record["backbone"]) == (
            trainer,
            subsample,
            openclip_name,
        )
        run_dirs[phase] = run_dir
    learner_name = TRAINER_REGISTRY.get(trainer).LEARNER_NAME
    if not learner_name:  # trains nothing
        return
    learner_dir = os.path.join(run_dirs["train"], learner_name)
    checkpoint = torch.load(
        os.path.join(learner_dir, "model.pth.tar-1"), map_location="cpu", weights_only=True
    )
    # the same learned tensors, by name and shape, as the method learns on OpenAI's tiny CLIP
    reference = make_trainer(trainer, toy_paths(toy_data_root), tmp_path / "reference")
    expected = reference.model.learnable.state_dict()
    assert {key: tuple(value.shape) for key, value in checkpoint["state_dict"].items()} == {
        key: tuple(value.shape) for key, value in expected.items()
    }


RESUME_OPTIONS = ("DATASET.NUM_SHOTS", 4, "OPTIM.MAX_EPOCH", 2, "OPTIM.WARMUP_EPOCH", 0)


@pytest.mark.slow
@pytest.mark.parametrize("trainer_name", TRAINED_METHODS)
def test_a_stopped_openclip_run_resumes_to_the_uninterrupted_result(
    trainer_name, openclip_name, toy, tmp_path
):
    options = (*RESUME_OPTIONS, "MODEL.BACKBONE.NAME", openclip_name)
    make_trainer(trainer_name, toy, tmp_path / "uninterrupted", *options).train()
    stopped = make_trainer(trainer_name, toy, tmp_path / "interrupted", *options)
    stop_after_epoch(stopped, 1)
    with pytest.raises(Stopped):
        stopped.train()
    resumed = make_trainer(trainer_name, toy, tmp_path / "interrupted", *options)
    resumed.train()
    assert resumed.start_epoch == 1
    record, checkpoint = final_state(tmp_path / "interrupted")
    expected_record, expected_checkpoint = final_state(tmp_path / "uninterrupted")
    assert_identical(record, expected_record, "result")
    assert_identical(checkpoint, expected_checkpoint, "checkpoint")


@pytest.mark.slow
@pytest.mark.parametrize("trainer_name", BATCH_COUPLED_METHODS)
def test_two_processes_train_a_batch_coupled_method_on_openclip_as_one_process(
    trainer_name, openclip_name, toy, tmp_path
):
    epochs = 2
    argv = {
        name: toy_argv(
            toy,
            tmp_path / name,
            *EXACT_OPTIONS,
            "MODEL.BACKBONE.NAME",
            openclip_name,
            trainer=trainer_name,
            epochs=epochs,
        )
        for name in ("single", "distributed")
    }
    one_process(argv["single"])
    result = torchrun(argv["distributed"])
    assert result.returncode == 0, result.stderr[-3000:]
    rtol = trained_weights_rtol(build_tiny_openclip(seed=0), epochs)  # openclip_name's model
    assert_same_run(tmp_path / "distributed", tmp_path / "single", epochs, rtol)
