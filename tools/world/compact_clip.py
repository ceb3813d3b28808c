"""The world CLIP as a small file the repository ships, and its expansion to a normal CLIP.

Pretraining changes only the token-embedding rows of the words its captions use (25 of CLIP's
49408: Adam moves no row whose gradient is always zero, and the embedding has no weight decay);
every other row keeps the value ``CLIP(...)`` gave it under the pretraining seed. The compact
file holds every other tensor, the changed rows and their indices; expanding it rebuilds the
initial embedding from the seed, puts the changed rows back and checks the result against the
digest of the weights pretraining wrote, so the expanded state_dict is that checkpoint exactly,
on every machine, or an error.
"""

import torch
from clip.model import CLIP

from prompting.clip_loading import weights_digest

TOKEN_EMBEDDING = "token_embedding.weight"


class ExpansionMismatch(RuntimeError):
    """The expanded weights are not the ones the compact file was made from."""


def initial_token_embedding(architecture, seed):
    """``[vocab_size, width]``: the token embedding ``CLIP(**architecture)`` starts from under
    ``torch.manual_seed(seed)`` (as pretraining builds it); the caller's RNG state is kept."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CLIP(**architecture).token_embedding.weight.detach().clone()


def compact(state_dict, config, report):
    """The compact form of the pretrained ``state_dict`` of ``config`` (a PretrainConfig), with
    ``report`` (its pretraining report) and the digest of the full weights."""
    embedding = state_dict[TOKEN_EMBEDDING]
    initial = initial_token_embedding(config.architecture(), config.seed).to(embedding.dtype)
    rows = (embedding != initial).any(dim=1).nonzero().flatten()  # [n_changed]
    return {
        "weights": {name: t for name, t in state_dict.items() if name != TOKEN_EMBEDDING},
        "token_rows": rows,
        "token_values": embedding[rows].clone(),  # [n_changed, width]
        "architecture": config.architecture(),
        "seed": config.seed,
        "weights_digest": weights_digest(state_dict),
        "report": report,
    }


def expand(compact_weights):
    """The full CLIP state_dict of a ``compact`` result; raises ExpansionMismatch when its
    digest differs from the recorded one (the seed's initial embedding came out otherwise)."""
    embedding = initial_token_embedding(compact_weights["architecture"], compact_weights["seed"])
    embedding = embedding.to(compact_weights["token_values"].dtype)
    embedding[compact_weights["token_rows"]] = compact_weights["token_values"]
    state_dict = {**compact_weights["weights"], TOKEN_EMBEDDING: embedding}
    expanded = weights_digest(state_dict)
    if expanded != compact_weights["weights_digest"]:
        raise ExpansionMismatch(
            f"the expanded world CLIP has weights digest {expanded}, not the recorded "
            f"{compact_weights['weights_digest']}: this torch initialises CLIP's token "
            "embedding differently"
        )
    return state_dict


def load_compact(path):
    return torch.load(path, map_location="cpu", weights_only=True)
