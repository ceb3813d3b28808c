"""Load an OpenCLIP model named ``openclip:<source>`` in ``MODEL.BACKBONE.NAME``.

The four sources OpenCLIP itself reads:

- ``openclip:<arch>/<tag>``: a built-in architecture with published weights, e.g.
  ``openclip:ViT-B-16/laion2b_s34b_b88k`` (downloaded once into Hugging Face's cache);
- ``openclip:<arch>@<file>``: a built-in architecture with weights from a local file (a state
  dict, ``.bin``, ``.pt`` or ``.safetensors``), e.g. ``openclip:ViT-B-16@open_clip_model.bin``;
- ``openclip:hf-hub:<org>/<repo>``: a model hub repository holding ``open_clip_config.json``
  and the weights;
- ``openclip:local-dir:<folder>``: a folder holding those two files (a hub repository copied
  to a machine without internet).

The architecture's config states the activation (``ViT-B-16``: GELU, ``ViT-B-16-quickgelu``:
QuickGELU), so weights never run with an activation other than the one they were trained with.
"""

import json
import math
import os

import open_clip
from open_clip.factory import get_model_config
from open_clip.pretrained import get_pretrained_cfg, list_pretrained_tags_by_model

from run.user_errors import ConfigError, UserError

from .backbones import OPENCLIP_PREFIX
from .backbones.base import unsupported
from .backbones.openclip import OpenCLIPBackbone

SCHEMAS = ("hf-hub:", "local-dir:")
FORMS = (
    '"openclip:<arch>/<pretrained tag>" (e.g. "openclip:ViT-B-16/laion2b_s34b_b88k"), '
    '"openclip:<arch>@<weights file>", "openclip:hf-hub:<org>/<repo>" or '
    '"openclip:local-dir:<folder>"'
)


class OpenCLIPNameError(ConfigError):
    pass


class OpenCLIPUnavailable(UserError, RuntimeError):
    pass


def parse_openclip_name(name):
    """``(model_name, pretrained)`` as ``open_clip.create_model`` takes them."""
    source = name[len(OPENCLIP_PREFIX) :]
    if source.startswith(SCHEMAS):
        if not source.split(":", 1)[1]:
            raise OpenCLIPNameError(f'MODEL.BACKBONE.NAME "{name}" names no source: use {FORMS}')
        return source, None
    if "@" in source:
        arch, weights = source.split("@", 1)
        return arch, os.path.expanduser(weights)
    if "/" in source:
        return tuple(source.split("/", 1))
    raise OpenCLIPNameError(
        f'MODEL.BACKBONE.NAME "{name}" names no weights (it would run a random model): use {FORMS}'
    )


def check_openclip_name(name):
    """Refuse, before anything is loaded or downloaded, a name that cannot give the model."""
    model_name, pretrained = parse_openclip_name(name)
    if model_name.startswith("local-dir:"):
        folder = os.path.expanduser(model_name.split(":", 1)[1])
        config_path = os.path.join(folder, "open_clip_config.json")
        if not os.path.isfile(config_path):
            raise OpenCLIPNameError(
                f'MODEL.BACKBONE.NAME "{name}": {folder} holds no open_clip_config.json (an '
                "OpenCLIP model folder holds it beside the weights)"
            )
        with open(config_path) as file:
            model_config = json.load(file).get("model_cfg")
        if model_config is not None:
            check_tower_config(name, model_config)
        return
    if model_name.startswith("hf-hub:"):
        return
    config = get_model_config(model_name)
    if config is None:
        raise OpenCLIPNameError(
            f'MODEL.BACKBONE.NAME "{name}": "{model_name}" is not an OpenCLIP architecture '
            f"(open_clip.list_models() lists them, e.g. ViT-B-16, ViT-L-14)"
        )
    check_tower_config(name, config)
    if "@" in name:
        if not os.path.isfile(pretrained):
            raise OpenCLIPNameError(f'MODEL.BACKBONE.NAME "{name}": no file {pretrained}')
        return
    tag_config = get_pretrained_cfg(model_name, pretrained)
    if not tag_config:
        raise OpenCLIPNameError(
            f'MODEL.BACKBONE.NAME "{name}": "{pretrained}" is not a pretrained tag of '
            f"{model_name}; its tags: {list_pretrained_tags_by_model(model_name)}"
        )
    if tag_config.get("quick_gelu", False) != config.get("quick_gelu", False):
        trained = "QuickGELU" if tag_config.get("quick_gelu") else "GELU"
        fitting = (
            f"{model_name}-quickgelu" if trained == "QuickGELU" else model_name.rsplit("-", 1)[0]
        )
        raise OpenCLIPNameError(
            f'MODEL.BACKBONE.NAME "{name}": the {pretrained} weights were trained with {trained} '
            f'and {model_name} runs the other activation: use "openclip:{fitting}/{pretrained}"'
        )


def check_tower_config(name, config):
    """The towers a built-in architecture's config declares, refused unless ViT + text
    transformer (the rule ``OpenCLIPBackbone`` applies to a loaded model)."""
    kind = unsupported_tower(config["vision_cfg"], config["text_cfg"], config)
    if kind is not None:
        raise unsupported(f'MODEL.BACKBONE.NAME "{name}" has {kind}')


def unsupported_tower(vision, text, config):
    """What in an OpenCLIP model config the prompted encoders cannot run, or None."""
    if "timm_model_name" in vision:
        return f"a timm image tower ({vision['timm_model_name']})"
    if isinstance(vision.get("layers"), (list, tuple)):
        return "a ResNet image tower"
    if "hf_model_name" in text:
        return f"a Hugging Face text tower ({text['hf_model_name']})"
    if "multimodal_cfg" in config or text.get("embed_cls"):
        return "a CoCa text decoder"
    if vision.get("attentional_pool") or vision.get("pool_type", "tok") != "tok":
        return f"an image tower pooled by {vision.get('pool_type', 'attention')}"
    if text.get("no_causal_mask") or text.get("pool_type", "argmax") != "argmax":
        return f"a text tower pooled at its {text.get('pool_type')} token"
    if "hf_tokenizer_name" in text:
        return f"the tokenizer {text['hf_tokenizer_name']}"
    return None


def architecture_of(state_dict):
    """The built-in GELU architecture with ``state_dict``'s ViT shapes (None if not exactly one):
    the name to suggest for a state dict file."""
    try:
        conv = state_dict["visual.conv1.weight"]  # [width, 3, patch, patch]
        shapes = {
            "embed_dim": state_dict["text_projection"].shape[1],
            "width": conv.shape[0],
            "patch_size": conv.shape[-1],
            "image_size": math.isqrt(state_dict["visual.positional_embedding"].shape[0] - 1)
            * conv.shape[-1],
            "layers": count_blocks(state_dict, "visual.transformer.resblocks."),
            "text_width": state_dict["ln_final.weight"].shape[0],
            "text_layers": count_blocks(state_dict, "transformer.resblocks."),
        }
    except (KeyError, AttributeError, IndexError):
        return None
    matches = []
    for arch in open_clip.list_models():
        config = get_model_config(arch)
        vision, text = config["vision_cfg"], config["text_cfg"]
        if config.get("quick_gelu") or unsupported_tower(vision, text, config):
            continue
        image_size = vision.get("image_size", 224)
        described = {
            "embed_dim": config["embed_dim"],
            "width": vision.get("width"),
            "patch_size": vision.get("patch_size"),
            "image_size": image_size if isinstance(image_size, int) else image_size[0],
            "layers": vision.get("layers"),
            "text_width": text.get("width"),
            "text_layers": text.get("layers"),
        }
        if described == shapes:
            matches.append(arch)
    return matches[0] if len(matches) == 1 else None


def count_blocks(state_dict, prefix):
    return len({key[len(prefix) :].split(".")[0] for key in state_dict if key.startswith(prefix)})


def load_openclip_to_cpu(name):
    """The OpenCLIP model on the CPU in eval mode, weights in fp16 as ``load_clip_to_cpu`` gives
    OpenAI's (LayerNorms computing in fp32), with its tokenizer as ``.tokenizer``."""
    check_openclip_name(name)
    model_name, pretrained = parse_openclip_name(name)
    try:
        model = open_clip.create_model(
            model_name,
            pretrained=pretrained,
            precision="fp16",
            device="cpu",
            require_pretrained=True,
            weights_only=True,
        )
        tokenizer = open_clip.get_tokenizer(model_name)
    except (OSError, RuntimeError, ValueError, KeyError) as error:
        raise OpenCLIPUnavailable(
            f'Could not load OpenCLIP "{name}" ({str(error).splitlines()[0]}). Offline, copy the '
            "model's hub folder (open_clip_config.json and the weights) to this machine and use "
            '"openclip:local-dir:<folder>", or "openclip:<arch>@<weights file>".'
        ) from error
    model.tokenizer = tokenizer
    OpenCLIPBackbone(model)  # refuses towers the prompted encoders cannot run
    return model.eval()


def openclip_preprocessing(clip_model):
    """``(resolution, mean, std)`` the OpenCLIP model's images are preprocessed with."""
    config = open_clip.get_model_preprocess_cfg(clip_model)
    size = config["size"]
    resolution = size if isinstance(size, int) else size[0]
    return resolution, tuple(config["mean"]), tuple(config["std"])
