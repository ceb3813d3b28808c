"""Several sentences per class and frozen CLIP's class features averaged over them.

HiCroPL's frozen text features come from LLM-written class descriptions (a JSON file
``{class name: [sentence, ...]}``, the format of the CoPrompt / HiCroPL authors' ``gpt_file``);
without such a file the sentences are the class name in every template of an ensemble.
"""

import json
import os

import torch

from run.user_errors import ConfigError

from .prompted_clip import normalize
from .text_encoder import encode_prompts_normalized


def read_descriptions(path, classnames, key):
    """``{class name: [sentences]}`` from JSON ``path`` for every class (underscores read as
    spaces, as the class names are looked up); ConfigError naming ``key`` otherwise."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            table = json.load(handle)
    except (OSError, ValueError) as error:
        raise ConfigError(f"{key} {path}: cannot read it as JSON ({error})") from error
    if not isinstance(table, dict):
        raise ConfigError(f"{key} {path}: expected an object {{class name: [sentences]}}")
    descriptions = {}
    for name in classnames:
        sentences = table.get(name.replace("_", " "))
        if not sentences or not all(isinstance(s, str) for s in sentences):
            raise ConfigError(f'{key} {path} has no list of sentences for the class "{name}"')
        descriptions[name] = list(sentences)
    return descriptions


def template_descriptions(classnames, templates):
    """The class name in every template: ``{class name: [sentences]}``."""
    return {name: [t.format(name.replace("_", " ")) for t in templates] for name in classnames}


@torch.no_grad()
def averaged_class_features(clip_model, classnames, descriptions):
    """Per class, frozen CLIP's normalised features of its sentences averaged and normalised
    again: ``[n_cls, E]`` fp32."""
    sentences = [s for name in classnames for s in descriptions[name]]
    features = encode_prompts_normalized(clip_model, sentences).float()
    counts = [len(descriptions[name]) for name in classnames]
    return normalize(torch.stack([part.mean(dim=0) for part in features.split(counts)]))
