"""Before which encoder blocks SEP fuses tokens, and the per-layer Token Fusion Modules."""

import numbers

import torch.nn as nn

from run.user_errors import ModelOptionError

from .token_fusion import TokenFusion


def default_fusion_layers(depth):
    """The authors' default: every block but the first (block 0 sees the raw prompt tokens)."""
    return tuple(range(1, depth))


def resolve_fusion_layers(requested, depth, encoder="encoder"):
    """Sorted, unique 0-based block indices; None or empty means ``default_fusion_layers``.

    Raises ModelOptionError (option "fusion_layers") naming the offending values and the depth.
    """
    if requested is None or len(requested) == 0:
        return default_fusion_layers(depth)
    not_integers = [
        layer
        for layer in requested
        if isinstance(layer, bool) or not isinstance(layer, numbers.Integral)
    ]
    if not_integers:
        raise ModelOptionError(
            f"fusion_layers {list(requested)}: {not_integers} are not block indices "
            f"(integers 0..{depth - 1} for the {encoder}'s {depth} blocks)",
            option="fusion_layers",
        )
    layers = sorted({int(layer) for layer in requested})
    out_of_range = [layer for layer in layers if not 0 <= layer < depth]
    if out_of_range:
        raise ModelOptionError(
            f"fusion_layers {list(requested)}: {out_of_range} out of range; the {encoder} "
            f"has depth {depth} (0-based blocks 0..{depth - 1})",
            option="fusion_layers",
        )
    return tuple(layers)


class LayerwiseTokenFusion(nn.ModuleDict):
    """One ``TokenFusion`` per fusion layer, keyed by the index of the block it precedes.

    The keys are the single source of truth for where fusion happens, so a checkpoint records
    its layers (state_dict keys ``"<block>.attn.in_proj_weight"``, ...).
    """

    def __init__(self, layers, width, token_fusion_kwargs=None):
        kwargs = dict(token_fusion_kwargs or {})
        super().__init__({str(layer): TokenFusion(width, **kwargs) for layer in layers})

    @property
    def layers(self):
        return tuple(sorted(int(key) for key in self.keys()))

    def for_block(self, index):
        """The TFM applied before block ``index``, or None."""
        key = str(index)
        return self[key] if key in self else None
