"""Load a CLIP model by name (downloads into CLIP's cache) or from a local checkpoint file."""
import os

import torch
from clip import clip

CLIP_CACHE_DIR = os.path.expanduser("~/.cache/clip")


class CLIPWeightsUnavailable(RuntimeError):
    pass


def resolve_clip_checkpoint(name_or_path, cache_dir=CLIP_CACHE_DIR):
    """Path of the checkpoint for a CLIP model name or a local file; downloads named models."""
    expanded = os.path.expanduser(name_or_path)
    if os.path.isfile(expanded):
        return expanded
    if name_or_path not in clip._MODELS:
        raise CLIPWeightsUnavailable(
            f'MODEL.BACKBONE.NAME "{name_or_path}" is neither a CLIP model name nor an existing file. '
            f"Use one of {clip.available_models()} or the path of a local checkpoint "
            "(JIT archive or state_dict)."
        )
    try:
        return clip._download(clip._MODELS[name_or_path], cache_dir)
    except OSError as error:  # urllib's URLError is an OSError
        file_name = os.path.basename(clip._MODELS[name_or_path])
        raise CLIPWeightsUnavailable(
            f'Could not download CLIP "{name_or_path}" ({error}). Offline, put the official file '
            f'"{file_name}" into {cache_dir}/, or set MODEL.BACKBONE.NAME to the path of a local '
            "checkpoint."
        ) from error


def load_clip_to_cpu(name_or_path, cache_dir=CLIP_CACHE_DIR):
    """CLIP as ``clip.build_model`` makes it: on the CPU, eval mode, weights in fp16."""
    path = resolve_clip_checkpoint(name_or_path, cache_dir)
    try:
        state_dict = torch.jit.load(path, map_location="cpu").eval().state_dict()
    except RuntimeError:  # not a JIT archive: a plain state_dict
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state_dict, dict) and "state_dict" in state_dict:
        state_dict = state_dict["state_dict"]
    try:
        return clip.build_model(state_dict)
    except (KeyError, RuntimeError) as error:
        raise CLIPWeightsUnavailable(
            f'"{path}" is not a CLIP checkpoint that clip.build_model can read ({error}).'
        ) from error


def is_vit(clip_model):
    return hasattr(clip_model.visual, "transformer")
