import os

import pytest
import torch

from prompting.prompt_learner import ContextPromptLearner
from run.checkpoints import (
    CheckpointMismatch,
    checkpoint_path,
    load_learned_state,
    saved_epochs,
)
from tests.trainers.helpers import make_trainer


def write_checkpoint(path, state_dict, epoch=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save({"state_dict": state_dict, "epoch": epoch}, path)


def test_checkpoint_path_prefers_the_asked_epoch_then_the_best_then_the_latest(tmp_path):
    model_dir = tmp_path / "prompt_learner"
    for epoch in (2, 9, 10):
        write_checkpoint(str(model_dir / f"model.pth.tar-{epoch}"), {}, epoch)
    assert saved_epochs(str(model_dir)) == [2, 9, 10]
    assert checkpoint_path(str(tmp_path), "prompt_learner") == str(model_dir / "model.pth.tar-10")
    assert checkpoint_path(str(tmp_path), "prompt_learner", 9) == str(model_dir / "model.pth.tar-9")
    write_checkpoint(str(model_dir / "model-best.pth.tar"), {})
    assert checkpoint_path(str(tmp_path), "prompt_learner") == str(model_dir / "model-best.pth.tar")


def test_checkpoint_path_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="--model-dir"):
        checkpoint_path(str(tmp_path / "nowhere"), "prompt_learner")
    os.makedirs(tmp_path / "prompt_learner")
    with pytest.raises(FileNotFoundError, match="holds no checkpoint"):
        checkpoint_path(str(tmp_path), "prompt_learner")
    with pytest.raises(FileNotFoundError, match=r"saved epochs: none"):
        checkpoint_path(str(tmp_path), "prompt_learner", 3)


def test_load_learned_state_skips_class_bound_tensors_of_other_classes(tmp_path, tiny_clip):
    trained = ContextPromptLearner(["cat", "dog"], tiny_clip, n_ctx=4)
    state = dict(trained.state_dict())
    # what a real-Dassl CoOp checkpoint carries besides the context
    state["token_prefix"] = trained.token_prefix
    state["token_suffix"] = trained.token_suffix
    path = str(tmp_path / "model.pth.tar-5")
    write_checkpoint(path, state, epoch=5)

    other_classes = ContextPromptLearner(["car", "bus", "van"], tiny_clip, n_ctx=4)
    assert load_learned_state(other_classes, path) == 5
    assert torch.equal(other_classes.ctx, trained.ctx)
    assert other_classes.token_prefix.shape[0] == 3


def test_load_learned_state_refuses_other_parameters(tmp_path, tiny_clip):
    learner = ContextPromptLearner(["cat", "dog"], tiny_clip, n_ctx=4)
    path = str(tmp_path / "extra.pth")
    write_checkpoint(path, {"ctx": learner.ctx.detach(), "meta_net.linear1.weight": torch.zeros(1)})
    with pytest.raises(CheckpointMismatch, match="unexpected"):
        load_learned_state(learner, path)
    path = str(tmp_path / "shape.pth")
    width = learner.ctx.shape[-1]
    write_checkpoint(path, {"ctx": torch.zeros(8, width)})
    with pytest.raises(CheckpointMismatch, match=rf"\(8, {width}\)"):
        load_learned_state(learner, path)


@pytest.fixture(scope="module")
def coop_run(toy, tmp_path_factory):
    """A CoOp base-class run with checkpoints of epochs 1 and 2."""
    output_dir = tmp_path_factory.mktemp("coop_run")
    trainer = make_trainer(
        "CoOp",
        toy,
        output_dir,
        "OPTIM.MAX_EPOCH",
        2,
        "TRAIN.CHECKPOINT_FREQ",
        1,
        "TEST.NO_TEST",
        True,
    )
    trainer.train()
    return str(output_dir), trainer.model.learnable.ctx.detach().clone()


def test_trainer_loads_the_latest_epoch_of_a_run(coop_run, toy, tmp_path):
    run_dir, trained_ctx = coop_run
    trainer = make_trainer("CoOp", toy, tmp_path, subsample="new")
    trainer.load_model(run_dir)
    assert torch.equal(trainer.model.learnable.ctx, trained_ctx)
    assert trainer.epoch + 1 == 2
    trainer.load_model(run_dir, epoch=1)
    assert trainer.epoch + 1 == 1
    assert not torch.equal(trainer.model.learnable.ctx, trained_ctx)


def test_trainer_load_errors_for_a_missing_folder_or_epoch(coop_run, toy, tmp_path):
    run_dir, _ = coop_run
    trainer = make_trainer("CoOp", toy, tmp_path)
    with pytest.raises(FileNotFoundError, match="--model-dir"):
        trainer.load_model(str(tmp_path / "no_such_run"))
    with pytest.raises(FileNotFoundError, match=r"--load-epoch 7 .*saved epochs: \[1, 2\]"):
        trainer.load_model(run_dir, epoch=7)


def test_trainer_refuses_a_checkpoint_of_another_trainer(coop_run, toy, tmp_path):
    run_dir, _ = coop_run
    trainer = make_trainer("CoCoOp", toy, tmp_path)
    with pytest.raises(CheckpointMismatch, match="meta_net"):
        trainer.load_model(run_dir)


def test_trainer_refuses_a_checkpoint_with_another_context_length(coop_run, toy, tmp_path):
    run_dir, _ = coop_run
    trainer = make_trainer(
        "CoOp", toy, tmp_path, "TRAINER.COOP.CTX_INIT", "", "TRAINER.COOP.N_CTX", 8
    )
    with pytest.raises(CheckpointMismatch, match="N_CTX|shape"):
        trainer.load_model(run_dir)
