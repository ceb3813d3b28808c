"""A resumable checkpoint after every epoch, of which only the latest is kept.

Dassl saves ``<name>/model.pth.tar-<epoch>`` every TRAIN.CHECKPOINT_FREQ epochs and after the last
one, and ``SimpleTrainer.before_train`` resumes from the file the ``<name>/checkpoint`` pointer
names. With TRAIN.RESUME_CHECKPOINT the trainer also saves the epochs in between, so that a run
killed mid-epoch and started again with the same command loses at most one epoch.

Those extra files are listed in ``<name>/resume_only_checkpoints.txt`` before they are written.
Once a newer checkpoint is complete (and the pointer names it), the older listed files are
deleted; after the last epoch none is left. A file that is not on the list (Dassl's own
checkpoints, the best model, anything else in the folder) is never deleted.
"""

import os

from .checkpoints import EPOCH_MODEL_PREFIX

RESUME_ONLY_LIST = "resume_only_checkpoints.txt"
CHECKPOINT_POINTER = "checkpoint"  # Dassl's file naming the latest checkpoint


def unfinished_model_dirs(directory, names):
    """Model folders under ``directory`` that exist but hold no ``checkpoint`` pointer yet.

    A run killed while writing its first checkpoint leaves such a folder; Dassl's resume logic
    takes the folder for a checkpoint and fails on the missing pointer.
    """
    folders = [os.path.join(directory, name) for name in names]
    return [
        folder
        for folder in folders
        if os.path.isdir(folder) and not os.path.isfile(os.path.join(folder, CHECKPOINT_POINTER))
    ]


def engine_saves_epoch(cfg, epoch, max_epoch):
    """Whether Dassl's ``after_epoch`` saves 0-based ``epoch`` itself (checkpoint freq or last)."""
    freq = cfg.TRAIN.CHECKPOINT_FREQ
    return epoch + 1 == max_epoch or (freq > 0 and (epoch + 1) % freq == 0)


def read_resume_only_list(model_dir):
    path = os.path.join(model_dir, RESUME_ONLY_LIST)
    if not os.path.isfile(path):
        return []
    with open(path) as file:
        return [line.strip() for line in file if line.strip()]


def write_resume_only_list(model_dir, file_names):
    path = os.path.join(model_dir, RESUME_ONLY_LIST)
    if not file_names:
        if os.path.exists(path):
            os.remove(path)
        return
    os.makedirs(model_dir, exist_ok=True)
    tmp_path = f"{path}.tmp.{os.getpid()}"
    with open(tmp_path, "w") as file:
        file.write("".join(f"{name}\n" for name in file_names))
    os.replace(tmp_path, path)


def save_resume_checkpoint(trainer):
    """After ``trainer``'s epoch (and Dassl's own saving): save it if Dassl did not, then delete
    the older resume-only checkpoints."""
    epoch, output_dir = trainer.epoch, trainer.output_dir
    file_name = f"{EPOCH_MODEL_PREFIX}{epoch + 1}"
    saved_by_engine = engine_saves_epoch(trainer.cfg, epoch, trainer.max_epoch)
    model_dirs = [os.path.join(output_dir, name) for name in trainer.get_model_names()]

    for model_dir in model_dirs:
        listed = read_resume_only_list(model_dir)
        if saved_by_engine:
            listed = [name for name in listed if name != file_name]  # now one Dassl keeps
        elif file_name not in listed and not os.path.exists(os.path.join(model_dir, file_name)):
            # listed before it is written, so that a kill in between leaves no unlisted file
            listed.append(file_name)
        write_resume_only_list(model_dir, listed)
    if not saved_by_engine:
        trainer.save_model(epoch, output_dir)

    for model_dir in model_dirs:
        kept = []
        for name in read_resume_only_list(model_dir):
            if name == file_name:
                kept.append(name)
            elif os.path.isfile(os.path.join(model_dir, name)):
                os.remove(os.path.join(model_dir, name))
        write_resume_only_list(model_dir, kept)
