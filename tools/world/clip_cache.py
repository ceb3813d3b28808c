"""The pretrained world CLIP, built once per machine and reused: a cache keyed by what makes it.

For the default configuration the repository ships the CLIP itself (tools/world/
world_clip_compact.pt, see compact_clip.py): it is expanded into the cache, checked against the
digest of its weights, instead of pretrained, so every machine holds the same weights; the
expanded file is named by that digest (``world-clip-shipped-<weights digest>.pt``).

The key hashes the source of the world package (renderer, captions, training loop), the text
encoder it trains through, the training configuration and the torch version, so changing any of
them builds a new checkpoint instead of silently reusing a stale one.

    ~/.cache/sep-prompt-tuning/world-clip-<key>.pt    the checkpoint (``clip_state_file``, fp16)
    ~/.cache/sep-prompt-tuning/world-clip-<key>.json  its configuration and zero-shot accuracy
    ~/.cache/sep-prompt-tuning/world_clip.pt          link to the latest one built or reused: the
                                                      path the world trainer configs name
"""

import json
import os
import time

import torch

from prompting.clip_loading import state_dict_file, weights_digest
from run.atomic_files import atomic_path, write_text_atomic
from run.user_errors import UserError

from . import pretrain as pretraining
from .build_files import WORLD_DIR, source_digest
from .compact_clip import ExpansionMismatch, expand, load_compact

CACHE_DIR = os.path.expanduser("~/.cache/sep-prompt-tuning")
CURRENT_LINK = "world_clip.pt"
SHIPPED_CLIP = os.path.join(WORLD_DIR, "world_clip_compact.pt")


def cache_key(config):
    return source_digest(json.dumps(config.as_dict(), sort_keys=True))


class PretrainingFailed(UserError, RuntimeError):
    """Pretraining ended with a CLIP no better than chance: nothing is written."""


def report_path(path):
    return os.path.splitext(path)[0] + ".json"


def save_clip(state_dict, path):
    """``state_dict`` as a CLIP file ``MODEL.BACKBONE.NAME <path>`` loads, written atomically."""
    with atomic_path(path) as tmp_path:
        torch.save(state_dict_file(state_dict), tmp_path)


def build_world_clip(
    path,
    config=pretraining.DEFAULT_CONFIG,
    progress=True,
    eval_per_class=50,
    require_learning=True,
):
    """Pretrain, save the CLIP to ``path`` and a JSON report beside it; return the report.

    The report holds the zero-shot top-1 over all classes on ``eval_per_class`` held-out images
    per class of the pretraining distribution and the digest of the weights. It is written
    before the checkpoint, whose presence marks a finished build, so a kill in between never
    leaves a checkpoint without its report. With ``require_learning`` (off only for smoke builds
    of a few steps), a CLIP whose zero-shot top-1 is not above twice chance has learnt nothing
    usable (too few steps, a diverged loss): PretrainingFailed, and neither file is written.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    start, cpu_start = time.time(), time.process_time()
    model = pretraining.pretrain(config, progress=progress)
    report = {
        "config": config.as_dict(),
        "torch": torch.__version__,
        "wall_seconds": round(time.time() - start, 1),
        "cpu_seconds": round(time.process_time() - cpu_start, 1),
    }
    state_dict = {key: value.clone() for key, value in model.state_dict().items()}
    report["weights_digest"] = weights_digest(state_dict)
    with pretraining.deterministic_torch(config.threads):  # fp16 matmuls are slow on a CPU
        accuracy, chance = pretraining.zero_shot_accuracy(model.float(), per_class=eval_per_class)
    if require_learning and not accuracy > 2 * chance:
        raise PretrainingFailed(
            f"the pretrained world CLIP reaches {accuracy:.1f}% zero-shot top-1 (chance "
            f"{chance:.1f}%) after {config.steps} steps: it learnt nothing usable, so nothing "
            "was written. Give more --steps (default "
            f"{pretraining.DEFAULT_CONFIG.steps}) or another --seed."
        )
    report.update(zero_shot_top1=accuracy, chance=chance, eval_images_per_class=eval_per_class)
    write_text_atomic(report_path(path), json.dumps(report, indent=2))
    save_clip(state_dict, path)
    return report


def expand_shipped_clip(config, cache_dir, shipped=None):
    """The path of the shipped CLIP (default SHIPPED_CLIP) expanded into ``cache_dir`` when it
    was pretrained with ``config`` (expanded now if absent), else None."""
    shipped = shipped or SHIPPED_CLIP
    if not os.path.isfile(shipped):
        return None
    compact_weights = load_compact(shipped)
    if compact_weights["report"]["config"] != config.as_dict():
        return None
    digest = compact_weights["weights_digest"]
    path = os.path.join(cache_dir, f"world-clip-shipped-{digest}.pt")
    if os.path.isfile(path):
        return path
    try:
        state_dict = expand(compact_weights)
    except ExpansionMismatch as error:
        print(f"Not using the shipped world CLIP ({error}); pretraining one instead")
        return None
    os.makedirs(cache_dir, exist_ok=True)
    report = {**compact_weights["report"], "weights_digest": digest, "source": shipped}
    write_text_atomic(report_path(path), json.dumps(report, indent=2))
    save_clip(state_dict, path)
    print(
        f"Expanded the shipped world CLIP (weights digest {digest}, zero-shot top-1 "
        f"{report['zero_shot_top1']:.1f}% on held-out world images) into {path}"
    )
    return path


def world_clip_path(config=pretraining.DEFAULT_CONFIG, cache_dir=None, progress=True):
    """The cached checkpoint for ``config``: the shipped one if it was made with ``config``,
    else pretrained first if absent; updates the link."""
    cache_dir = cache_dir or CACHE_DIR
    path = expand_shipped_clip(config, cache_dir)
    if path is None:
        path = os.path.join(cache_dir, f"world-clip-{cache_key(config)}.pt")
    if not os.path.isfile(path):
        print(f"Pretraining the world CLIP into {path} (once per machine and code version)")
        report = build_world_clip(path, config, progress)
        print(
            f"Zero-shot top-1 on held-out world images: {report['zero_shot_top1']:.1f}% "
            f"(chance {report['chance']:.1f}%), {report['wall_seconds']:.0f} s, weights "
            f"digest {report['weights_digest']}"
        )
    link = os.path.join(cache_dir, CURRENT_LINK)
    with atomic_path(link) as tmp_path:
        os.symlink(os.path.basename(path), tmp_path)
    return path
