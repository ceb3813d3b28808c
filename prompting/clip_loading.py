"""Load a CLIP model by name (downloads into CLIP's cache) or from a local checkpoint file.

``MODEL.BACKBONE.NAME`` is an OpenAI CLIP name ("ViT-B/16"), OpenAI's JIT file, a state dict
file that records its activation (``clip_state_file``: the tiny and world CLIPs), or an
OpenCLIP model (``openclip:...``, ``prompting/openclip_loading.py``). A plain state dict does
not say whether its blocks ran QuickGELU (OpenAI's) or GELU (most OpenCLIP models): it is
refused, naming the ``openclip:<arch>@<file>`` form that states it.
"""

import difflib
import hashlib
import os
import pickle
import warnings

import torch
from clip import clip
from clip.model import ModifiedResNet

from run.user_errors import ConfigError, UserError

from .backbones import is_openclip_name

CLIP_CACHE_DIR = os.path.expanduser("~/.cache/clip")
# ``clip.build_model`` builds QuickGELU blocks: the only activation a state dict file may state
BUILT_ACTIVATION = "quick_gelu"


class CLIPWeightsUnavailable(UserError, RuntimeError):
    pass


def check_backbone_name(name_or_path):
    """Refuse, before anything is loaded, a backbone that is neither a CLIP name nor a file."""
    if is_openclip_name(name_or_path):
        from .openclip_loading import check_openclip_name

        check_openclip_name(name_or_path)
        return
    if os.path.isfile(os.path.expanduser(name_or_path)) or name_or_path in clip._MODELS:
        return
    close = difflib.get_close_matches(name_or_path, clip.available_models(), n=1)
    raise CLIPWeightsUnavailable(
        f'MODEL.BACKBONE.NAME "{name_or_path}" is neither a CLIP model name nor an existing file.'
        + (f' Did you mean "{close[0]}"?' if close else "")
        + f" Use one of {clip.available_models()}, the path of a local checkpoint "
        '(JIT archive or state_dict), or an OpenCLIP model ("openclip:ViT-B-16/laion2b_s34b_b88k").'
    )


def resolve_clip_checkpoint(name_or_path, cache_dir=None):
    """Path of the checkpoint for a CLIP model name or a local file; downloads named models."""
    check_backbone_name(name_or_path)
    expanded = os.path.expanduser(name_or_path)
    if os.path.isfile(expanded):
        return expanded
    cache_dir = cache_dir or CLIP_CACHE_DIR
    try:
        return clip._download(clip._MODELS[name_or_path], cache_dir)
    # urllib's URLError is an OSError; a checksum mismatch is a RuntimeError
    except (OSError, RuntimeError) as error:
        file_name = os.path.basename(clip._MODELS[name_or_path])
        raise CLIPWeightsUnavailable(
            f'Could not download CLIP "{name_or_path}" ({error}). Offline, put the official file '
            f'"{file_name}" into {cache_dir}/, or set MODEL.BACKBONE.NAME to the path of a local '
            "checkpoint."
        ) from error


def clip_state_file(clip_model):
    """What ``torch.save`` writes for a CLIP of OpenAI's ``clip`` package that
    ``MODEL.BACKBONE.NAME <file>`` loads: its state dict and the activation it was built with."""
    return state_dict_file(clip_model.state_dict())


def state_dict_file(state_dict):
    """``clip_state_file`` of a CLIP given by its ``state_dict``."""
    return {"state_dict": state_dict, "activation": BUILT_ACTIVATION}


def load_clip_to_cpu(name_or_path, cache_dir=None):
    """CLIP as ``clip.build_model`` makes it (or OpenCLIP's, for ``openclip:`` names): on the
    CPU, eval mode, weights in fp16."""
    if is_openclip_name(name_or_path):
        from .openclip_loading import load_openclip_to_cpu

        return load_openclip_to_cpu(name_or_path)
    path = resolve_clip_checkpoint(name_or_path, cache_dir)
    try:
        with (
            warnings.catch_warnings()
        ):  # torch deprecates JIT, but OpenAI ships CLIP as JIT archives
            warnings.simplefilter("ignore", FutureWarning)
            state_dict = torch.jit.load(path, map_location="cpu").eval().state_dict()
    except RuntimeError:  # not a JIT archive (OpenAI's format): a state_dict file
        state_dict = read_state_file(path)
    try:
        return clip.build_model(state_dict)
    except (KeyError, RuntimeError, AttributeError, TypeError) as error:
        raise CLIPWeightsUnavailable(
            f'"{path}" is not a CLIP checkpoint that clip.build_model can read ({error}).'
        ) from error


def read_state_file(path):
    """The state dict of a file ``clip_state_file`` wrote; any other state dict is refused."""
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        raise CLIPWeightsUnavailable(
            f'"{path}" is neither a JIT archive nor a state_dict that torch.load can read '
            "(a download cut short leaves such a file: delete it and download again)."
        ) from error
    activation = content.get("activation") if isinstance(content, dict) else None
    if activation == BUILT_ACTIVATION and isinstance(content.get("state_dict"), dict):
        return content["state_dict"]
    stated = (
        f"records activation {activation!r}" if activation else "does not record its activation"
    )
    state_dict = content.get("state_dict", content) if isinstance(content, dict) else {}
    from .openclip_loading import architecture_of

    arch = architecture_of(state_dict) or "ViT-B-16"
    raise CLIPWeightsUnavailable(
        f'"{path}" is a state_dict that {stated}: OpenAI\'s CLIP code would run it with '
        "QuickGELU, and weights trained with GELU (most OpenCLIP models) would give wrong "
        f'features. Load it through OpenCLIP, naming its architecture: "openclip:{arch}@{path}"'
        f' (GELU) or "openclip:{arch}-quickgelu@{path}" (QuickGELU, as OpenAI\'s models); a '
        "tiny or world CLIP written before files recorded it: write it again "
        "(tools/make_tiny_clip.py, tools/pretrain_world_clip.py)."
    )


def weights_digest(state_dict):
    """16 hex digits over every tensor of a CLIP ``state_dict`` (name, dtype, shape, bytes, in
    name order): equal exactly when two CLIPs hold the same weights, whatever file they came
    from."""
    digest = hashlib.sha256()
    for name, tensor in sorted(state_dict.items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


class BackboneNotViT(ConfigError):
    pass


def check_vit(method, backbone_name=None, clip_model=None):
    """The one check that a method whose prompt tokens join the ViT's token sequence has a ViT.

    Before CLIP is loaded, by ``backbone_name`` (CLIP's ResNets are named "RN..."); once it is
    loaded, by ``clip_model`` (a local checkpoint file can hold either).
    """
    if clip_model is None:
        if is_openclip_name(backbone_name):
            return  # check_openclip_name refuses OpenCLIP's non-ViT towers for every method
        if not backbone_name.startswith("RN"):
            return
        found = f'MODEL.BACKBONE.NAME "{backbone_name}" is a ResNet'
    else:
        if hasattr(clip_model.visual, "transformer"):
            return
        kind = "ResNet" if isinstance(clip_model.visual, ModifiedResNet) else "non-ViT"
        found = f"got {kind} image encoder {type(clip_model.visual).__name__}"
    raise BackboneNotViT(
        f"{method} needs a ViT CLIP backbone (ViT-B/32, ViT-B/16, ViT-L/14, ...): its visual "
        f"prompt tokens join the transformer's token sequence; {found}. Choose a ViT "
        "MODEL.BACKBONE.NAME."
    )
