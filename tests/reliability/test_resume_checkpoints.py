"""TRAIN.RESUME_CHECKPOINT: a checkpoint after every epoch, only the latest of them kept, and no
file deleted that this run did not write for resuming."""

import os

from dassl.engine import build_trainer

import train
from run.config import setup_cfg
from run.resume_checkpoints import RESUME_ONLY_LIST
from tests.reliability.train_args import toy_argv


def build(toy, output_dir, *options, epochs):
    cfg = setup_cfg(
        train.parse_args(toy_argv(toy, output_dir, "TEST.NO_TEST", True, *options, epochs=epochs))
    )
    return build_trainer(cfg)


def files_after_each_epoch(trainer, before_epoch=None):
    """Train; return the sorted file names of the learner folder after each epoch."""
    model_dir = os.path.join(trainer.output_dir, "prompt_learner")
    listings = []
    after_epoch, original_before_epoch = trainer.after_epoch, trainer.before_epoch

    def recording_after_epoch():
        after_epoch()
        listings.append(sorted(os.listdir(model_dir)) if os.path.isdir(model_dir) else [])

    def hooked_before_epoch():
        original_before_epoch()
        if before_epoch is not None:
            before_epoch(trainer.epoch, model_dir)

    trainer.after_epoch = recording_after_epoch
    trainer.before_epoch = hooked_before_epoch
    trainer.train()
    return listings


def test_the_latest_two_epoch_checkpoints_are_kept_and_none_after_the_last_epoch(toy, tmp_path):
    listings = files_after_each_epoch(build(toy, tmp_path / "run", epochs=4))
    assert listings == [
        ["checkpoint", "model.pth.tar-1", RESUME_ONLY_LIST],
        ["checkpoint", "model.pth.tar-1", "model.pth.tar-2", RESUME_ONLY_LIST],
        ["checkpoint", "model.pth.tar-2", "model.pth.tar-3", RESUME_ONLY_LIST],
        ["checkpoint", "model.pth.tar-4"],
    ]
    pointer = (tmp_path / "run" / "prompt_learner" / "checkpoint").read_text()
    assert pointer == "model.pth.tar-4\n"


def test_checkpoints_that_checkpoint_freq_asks_for_are_kept(toy, tmp_path):
    listings = files_after_each_epoch(
        build(toy, tmp_path / "run", "TRAIN.CHECKPOINT_FREQ", 2, epochs=5)
    )
    assert listings[2] == ["checkpoint", "model.pth.tar-2", "model.pth.tar-3", RESUME_ONLY_LIST]
    assert listings[-1] == ["checkpoint", "model.pth.tar-2", "model.pth.tar-4", "model.pth.tar-5"]


def test_files_this_run_did_not_write_for_resuming_are_never_deleted(toy, tmp_path):
    def put_foreign_files(epoch, model_dir):
        if epoch == 1:  # before the second epoch: a copy the user made, and notes
            with open(os.path.join(model_dir, "model.pth.tar-2"), "w") as f:
                f.write("user's copy")
            with open(os.path.join(model_dir, "notes.txt"), "w") as f:
                f.write("keep me")

    listings = files_after_each_epoch(build(toy, tmp_path / "run", epochs=3), put_foreign_files)
    # epoch 2 overwrote the user's file as Dassl would, but it is not the trainer's to delete
    assert listings[-1] == ["checkpoint", "model.pth.tar-2", "model.pth.tar-3", "notes.txt"]


def test_without_resume_checkpoint_only_dassls_own_checkpoints_are_written(toy, tmp_path):
    listings = files_after_each_epoch(
        build(toy, tmp_path / "run", "TRAIN.RESUME_CHECKPOINT", False, epochs=3)
    )
    assert listings == [[], [], ["checkpoint", "model.pth.tar-3"]]


def test_run_killed_while_writing_its_first_checkpoint_starts_again_from_scratch(toy, tmp_path):
    model_dir = tmp_path / "run" / "prompt_learner"
    model_dir.mkdir(parents=True)
    (model_dir / RESUME_ONLY_LIST).write_text("model.pth.tar-1\n")  # listed, never completed
    (model_dir / ".tmp-abc-model.pth.tar-1").write_bytes(b"half")
    trainer = build(toy, tmp_path / "run", epochs=2)
    trainer.train()
    assert trainer.start_epoch == 0
    assert sorted(os.listdir(model_dir)) == [
        ".tmp-abc-model.pth.tar-1",
        "checkpoint",
        "model.pth.tar-2",
    ]
