"""A resumable checkpoint after every epoch, of which the latest two are kept.

Dassl saves ``<name>/model.pth.tar-<epoch>`` every TRAIN.CHECKPOINT_FREQ epochs and after the last
one, and ``SimpleTrainer.before_train`` resumes from the file the ``<name>/checkpoint`` pointer
names. With TRAIN.RESUME_CHECKPOINT the trainer also saves the epochs in between, so that a run
killed mid-epoch and started again with the same command loses at most one epoch.

Those extra files are listed in ``<name>/resume_only_checkpoints.txt`` before they are written.
Once a newer checkpoint is complete (and the pointer names it), the listed files older than the
one before it are deleted; after the last epoch none is left. The previous one stays so that a
resume finding the latest unreadable (a torn write, a damaged disk) can go back one epoch
(``point_at_common_readable_checkpoint``). A file that is not on the list (Dassl's own
checkpoints, the best model, anything else in the folder) is never deleted.
"""

import os

from .atomic_files import write_text_atomic
from .checkpoints import EPOCH_MODEL_PREFIX, saved_epochs
from .untrusted_files import UnsafeFileError, load_checkpoint_file

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
    write_text_atomic(path, "".join(f"{name}\n" for name in file_names))


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

    is_last_epoch = epoch + 1 == trainer.max_epoch
    for model_dir in model_dirs:
        older = [saved for saved in saved_epochs(model_dir) if saved < epoch + 1]
        keep = {file_name}
        if older and not is_last_epoch:
            keep.add(f"{EPOCH_MODEL_PREFIX}{older[-1]}")
        kept = []
        for name in read_resume_only_list(model_dir):
            if name in keep:
                kept.append(name)
            elif os.path.isfile(os.path.join(model_dir, name)):
                os.remove(os.path.join(model_dir, name))
        write_resume_only_list(model_dir, kept)


def is_readable_checkpoint(path):
    try:
        checkpoint = load_checkpoint_file(path)
    except UnsafeFileError:
        raise  # readable, but refused: the user must decide, not a fall-back
    except Exception:  # a damaged file can fail anywhere in the unpickler (IndexError, KeyError...)
        return False
    return isinstance(checkpoint, dict) and "state_dict" in checkpoint


def _pointer_name(model_dir):
    pointer = os.path.join(model_dir, CHECKPOINT_POINTER)
    if not os.path.isfile(pointer):
        return ""
    with open(pointer) as file:
        return file.readline().strip()


def _write_pointer(model_dir, name):
    write_text_atomic(os.path.join(model_dir, CHECKPOINT_POINTER), name + "\n")


def _pointer_problem(model_dir, named):
    if not named:
        return "the checkpoint pointer is empty"
    if not is_readable_checkpoint(os.path.join(model_dir, named)):
        return f'"{named}" cannot be read'
    return f'"{named}" is not the epoch every model folder can read'


def point_at_common_readable_checkpoint(model_dirs):
    """Make Dassl's pointer in every folder of ``model_dirs`` name the newest epoch that every
    folder can read, so that all of a run's models (PromptSRC's prompts and their running
    average, say) resume from the same epoch.

    A torn latest write, or a kill between two models' saves, falls back to the epoch before.
    Returns False (after a warning) when no epoch is readable everywhere: the run then starts
    from scratch.
    """
    model_dirs = [model_dir for model_dir in model_dirs if os.path.isdir(model_dir)]
    if not model_dirs:
        return True  # nothing to resume; Dassl trains from scratch
    named = {model_dir: _pointer_name(model_dir) for model_dir in model_dirs}
    if len(set(named.values())) == 1 and all(
        name and is_readable_checkpoint(os.path.join(model_dir, name))
        for model_dir, name in named.items()
    ):
        return True
    common = set.intersection(*(set(saved_epochs(model_dir)) for model_dir in model_dirs))
    for epoch in sorted(common, reverse=True):
        name = f"{EPOCH_MODEL_PREFIX}{epoch}"
        if all(is_readable_checkpoint(os.path.join(d, name)) for d in model_dirs):
            for model_dir in model_dirs:
                if named[model_dir] != name:
                    problem = _pointer_problem(model_dir, named[model_dir])
                    print(
                        f"Warning: in {model_dir}, {problem} (cut short?); "
                        f"resuming from {name} instead"
                    )
                    _write_pointer(model_dir, name)
            return True
    problems = "; ".join(f"{d}: {_pointer_problem(d, name)}" for d, name in named.items())
    print(
        f"Warning: {problems}, and no other checkpoint (of one epoch in every model folder) "
        "can be read; training from scratch"
    )
    return False
