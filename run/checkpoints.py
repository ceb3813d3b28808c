"""Load a trained prompt learner from a run folder, dropping what belongs to its classes."""

import os
import pickle
import re

from .untrusted_files import load_checkpoint_file
from .user_errors import UserError

BEST_MODEL_FILE = "model-best.pth.tar"
EPOCH_MODEL_PREFIX = "model.pth.tar-"
# Per-class tensors that real-Dassl CoOp-family checkpoints may carry; they are rebuilt
# for the classes being evaluated instead.
CLASS_BOUND_KEYS = ("token_prefix", "token_suffix", "token_midfix", "tokenized_prompts")


class CheckpointMismatch(UserError, RuntimeError):
    pass


class CheckpointNotFound(UserError, FileNotFoundError):
    pass


def saved_epochs(model_dir):
    pattern = re.compile(re.escape(EPOCH_MODEL_PREFIX) + r"(\d+)$")
    matches = (pattern.match(name) for name in os.listdir(model_dir))
    return sorted(int(m.group(1)) for m in matches if m)


def checkpoint_path(directory, name, epoch=None):
    """The file to load: epoch ``epoch``, else the best model, else the latest saved epoch."""
    model_dir = os.path.join(directory, name)
    if not os.path.isdir(model_dir):
        raise CheckpointNotFound(
            f'No checkpoints at "{model_dir}". --model-dir must be the output folder of a training '
            f'run of this trainer (it holds "{name}/model.pth.tar-<epoch>").'
        )
    epochs = saved_epochs(model_dir)
    if epoch is not None:
        path = os.path.join(model_dir, f"{EPOCH_MODEL_PREFIX}{epoch}")
        if not os.path.isfile(path):
            raise CheckpointNotFound(
                f"No checkpoint for --load-epoch {epoch} in {model_dir}; "
                f"saved epochs: {epochs or 'none'}."
            )
        return path
    best = os.path.join(model_dir, BEST_MODEL_FILE)
    if os.path.isfile(best):
        return best
    if not epochs:
        raise CheckpointNotFound(f"{model_dir} holds no checkpoint ({EPOCH_MODEL_PREFIX}<epoch>).")
    return os.path.join(model_dir, f"{EPOCH_MODEL_PREFIX}{epochs[-1]}")


def load_learned_state(module, path, class_bound_keys=()):
    """Load ``path`` into ``module``, skipping class-bound entries; returns the checkpoint's epoch.

    Refuses checkpoints whose tensors do not fit (another trainer, other settings, or
    class-specific parameters trained on another number of classes).
    """
    try:
        checkpoint = load_checkpoint_file(path)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise CheckpointMismatch(
            f'"{path}" cannot be read ({type(error).__name__}); a run killed while writing it '
            "leaves such a file. Load another epoch (--load-epoch) or train again."
        ) from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointMismatch(f'"{path}" is not a Dassl checkpoint (no "state_dict" entry).')
    skipped = set(CLASS_BOUND_KEYS) | set(class_bound_keys)
    state_dict = {k: v for k, v in checkpoint["state_dict"].items() if k not in skipped}
    own_state = module.state_dict()
    unexpected = sorted(set(state_dict) - set(own_state))
    missing = sorted(k for k in own_state if k not in state_dict and k not in skipped)
    if unexpected or missing:
        raise CheckpointMismatch(
            f'"{path}" does not match this trainer\'s learnable parameters '
            f"(unexpected: {unexpected[:5]}, missing: {missing[:5]}). Was it written by another "
            "trainer or with other method options (e.g. N_CTX)?"
        )
    for key, value in state_dict.items():
        if value.shape != own_state[key].shape:
            raise CheckpointMismatch(
                f'"{path}": "{key}" has shape {tuple(value.shape)} but this model expects '
                f"{tuple(own_state[key].shape)}. A class-specific parameter trained on "
                "another number of classes cannot be evaluated here; otherwise check the "
                "method options and the backbone."
            )
    module.load_state_dict(state_dict, strict=False)
    return checkpoint.get("epoch")
