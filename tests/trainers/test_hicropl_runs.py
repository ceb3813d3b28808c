"""HiCroPL's whole runs: a stopped run resumes bit-identical, and two torchrun processes train
and test as one process with the same global batch.

Nothing in HiCroPL couples the images of a batch: the flow between the prompts reads no image,
and every loss term is a mean over the batch's images. What couples its steps is the in-place
flow (the authors' code): every forward pass, evaluation included, moves the prompts. Under
torchrun each process runs one forward pass per shared batch, as one process does.
"""

import os

import pytest
import torch

from prompting.clip_loading import load_clip_to_cpu
from tests.distributed.test_torchrun_matches_one_process import (
    EXACT_OPTIONS,
    assert_same_run,
    one_process,
    torchrun,
    trained_weights_rtol,
)
from tests.reliability.test_resume_every_trainer import (
    OPTIONS,
    Stopped,
    assert_identical,
    final_state,
    stop_after_epoch,
)
from tests.reliability.train_args import toy_argv
from tests.trainers.helpers import make_trainer
from trainers import tiny_depth_options

FLOWS = ("in_place", "differentiable")


@pytest.mark.slow
@pytest.mark.parametrize("flow", FLOWS)
def test_run_stopped_after_an_epoch_resumes_to_the_uninterrupted_result(flow, toy, tmp_path):
    options = (*OPTIONS, "TRAINER.HICROPL.FLOW", flow)
    make_trainer("HiCroPL", toy, tmp_path / "uninterrupted", *options).train()
    stopped = make_trainer("HiCroPL", toy, tmp_path / "interrupted", *options)
    initial = {key: value.clone() for key, value in stopped.model.learnable.state_dict().items()}
    stop_after_epoch(stopped, 1)
    with pytest.raises(Stopped):
        stopped.train()
    resumed = make_trainer("HiCroPL", toy, tmp_path / "interrupted", *options)
    resumed.train()
    assert resumed.start_epoch == 1

    record, checkpoint = final_state(tmp_path / "interrupted")
    expected_record, expected_checkpoint = final_state(tmp_path / "uninterrupted")
    assert record == expected_record
    for key in ("state_dict", "optimizer", "scheduler", "epoch"):
        assert_identical(checkpoint[key], expected_checkpoint[key], key)
    weights = expected_checkpoint["state_dict"]
    assert not torch.equal(initial["visual.1"], weights["visual.1"])  # it trained
    mapper_trained = not torch.equal(
        initial["text_to_visual.linear_q.weight"], weights["text_to_visual.linear_q.weight"]
    )
    assert mapper_trained == (flow == "differentiable")


@pytest.mark.slow
@pytest.mark.parametrize("flow", FLOWS)
def test_two_processes_train_and_test_as_one_process_with_the_same_global_batch(
    flow, toy, tmp_path
):
    epochs = 2
    options = (
        *EXACT_OPTIONS,
        *tiny_depth_options("HiCroPL"),
        "TRAINER.HICROPL.FLOW",
        flow,
        "DATALOADER.TEST.BATCH_SIZE",
        11,  # a last test batch of 1, which the main process evaluates alone
    )
    argv = {
        name: toy_argv(toy, tmp_path / name, *options, trainer="HiCroPL", epochs=epochs)
        for name in ("single", "distributed")
    }
    one_process(argv["single"])
    result = torchrun(argv["distributed"])
    assert result.returncode == 0, result.stderr[-3000:]
    rtol = trained_weights_rtol(load_clip_to_cpu(toy.tiny_clip_path), epochs)
    assert_same_run(tmp_path / "distributed", tmp_path / "single", epochs, rtol)
    assert not os.path.exists(tmp_path / "distributed" / "log.txt-")
