"""A run with several model folders (PromptSRC: prompts and their running average) resumes every
folder from one epoch, the newest that all of them can read."""

import torch

from run.resume_checkpoints import CHECKPOINT_POINTER, point_at_common_readable_checkpoint


def save(model_dir, epoch, readable=True):
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / f"model.pth.tar-{epoch}"
    if readable:
        torch.save({"state_dict": {"w": torch.full((2,), float(epoch))}, "epoch": epoch}, path)
    else:
        path.write_bytes(b"torn")
    (model_dir / CHECKPOINT_POINTER).write_text(f"model.pth.tar-{epoch}\n")


def pointer(model_dir):
    return (model_dir / CHECKPOINT_POINTER).read_text().strip()


def test_a_kill_between_two_models_saves_resumes_both_from_the_older_epoch(tmp_path, capsys):
    prompts, average = tmp_path / "prompt_learner", tmp_path / "prompt_average"
    for epoch in (1, 2):
        save(prompts, epoch)
    save(average, 1)  # killed before the average's epoch-2 save

    assert point_at_common_readable_checkpoint([prompts, average])
    assert pointer(prompts) == pointer(average) == "model.pth.tar-1"
    assert "resuming from model.pth.tar-1 instead" in capsys.readouterr().out


def test_a_torn_latest_in_one_folder_moves_every_folder_back(tmp_path):
    prompts, average = tmp_path / "prompt_learner", tmp_path / "prompt_average"
    for epoch in (1, 2):
        save(prompts, epoch)
        save(average, epoch, readable=epoch == 1)

    assert point_at_common_readable_checkpoint([prompts, average])
    assert pointer(prompts) == pointer(average) == "model.pth.tar-1"


def test_intact_folders_are_left_as_they_are(tmp_path, capsys):
    prompts, average = tmp_path / "prompt_learner", tmp_path / "prompt_average"
    for epoch in (1, 2):
        save(prompts, epoch)
        save(average, epoch)

    assert point_at_common_readable_checkpoint([prompts, average])
    assert pointer(prompts) == pointer(average) == "model.pth.tar-2"
    assert capsys.readouterr().out == ""


def test_no_epoch_readable_everywhere_means_training_from_scratch(tmp_path, capsys):
    prompts, average = tmp_path / "prompt_learner", tmp_path / "prompt_average"
    save(prompts, 1)
    save(average, 1, readable=False)

    assert not point_at_common_readable_checkpoint([prompts, average])
    assert "training from scratch" in capsys.readouterr().out
