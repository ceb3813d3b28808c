"""SEP's Token Fusion Module (TFM): rebuilds prompt tokens from representative tokens."""

from collections import OrderedDict

import torch
import torch.nn as nn
from clip.model import LayerNorm, QuickGELU

from run.user_errors import ModelOptionError

# "reference": attention across the S inputs, separately per prompt slot (the authors' code,
# which produced the published numbers); "per_input": each input's prompt tokens attend to its
# own representative tokens (the paper's wording).
ATTENTION_AXES = ("reference", "per_input")


class TokenFusion(nn.Module):
    """Fuses prompt tokens ``P`` with representative tokens ``R``, both ``[S, k, D]``::

        a   = MHA(query=LN1(P), key=LN1(R), value=LN1(R))
        y   = s1 * R + (1 - s1) * a
        out = s2 * y + (1 - s2) * MLP(LN2(y))

    ``S`` is the number of inputs (images of the batch, or classes for text) and ``k`` the number
    of prompt tokens. With ``attention_axis="reference"`` the attention runs across the ``S``
    axis for each prompt slot ``j`` separately (slot ``j`` of input ``s`` attends to the slot-``j``
    representative tokens of all inputs), so an input's output depends on the other inputs; with
    ``"per_input"`` each input's ``k`` prompt tokens attend to its own ``k`` representative tokens.

    Computes in the dtype of its attention weights (fp32 or fp16) and returns the dtype of ``R``,
    so it can stay fp32 next to an fp16 CLIP; under ``torch.autocast`` the usual casts apply.
    """

    def __init__(self, width, hidden_dim=256, scale_init=0.75, attention_axis="reference"):
        super().__init__()
        if attention_axis not in ATTENTION_AXES:
            raise ModelOptionError(
                f'attention_axis "{attention_axis}" is not one of {ATTENTION_AXES}'
            )
        heads = max(1, width // 64)  # CLIP's own head width
        if width % heads:
            raise ValueError(f"TokenFusion width {width} is not divisible by its {heads} heads")
        self.width = width
        self.attention_axis = attention_axis
        self.ln_1 = LayerNorm(width)  # normalises the query and the key/value alike
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_2 = LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict(
                [
                    ("c_fc", nn.Linear(width, hidden_dim, bias=False)),
                    ("gelu", QuickGELU()),
                    ("c_proj", nn.Linear(hidden_dim, width, bias=False)),
                ]
            )
        )
        self.scale_1 = nn.Parameter(torch.full((1,), float(scale_init)))
        self.scale_2 = nn.Parameter(torch.full((1,), float(scale_init)))

    def forward(self, prompt_tokens, representative_tokens):
        self._check_inputs(prompt_tokens, representative_tokens)
        dtype = self.attn.in_proj_weight.dtype
        prompt = prompt_tokens.to(dtype)  # [S, k, D]
        representative = representative_tokens.to(dtype)  # [S, k, D]
        attended = self._attend(self.ln_1(prompt), self.ln_1(representative))  # [S, k, D]
        scale_1 = self.scale_1.to(dtype)
        scale_2 = self.scale_2.to(dtype)
        fused = scale_1 * representative + (1 - scale_1) * attended
        fused = scale_2 * fused + (1 - scale_2) * self.mlp(self.ln_2(fused))
        return fused.to(representative_tokens.dtype)

    def _attend(self, query, key_value):
        if self.attention_axis == "reference":
            # nn.MultiheadAttention is sequence-first: [S, k, D] is read as a length-S sequence
            # with batch k, i.e. each prompt slot attends across the inputs.
            return self.attn(query, key_value, key_value, need_weights=False)[0]
        query = query.transpose(0, 1)  # [k, S, D]: sequence k, batch S
        key_value = key_value.transpose(0, 1)
        attended = self.attn(query, key_value, key_value, need_weights=False)[0]
        return attended.transpose(0, 1)  # [S, k, D]

    def _check_inputs(self, prompt_tokens, representative_tokens):
        if prompt_tokens.dim() != 3 or prompt_tokens.shape != representative_tokens.shape:
            raise ValueError(
                "TokenFusion expects prompt and representative tokens of the same shape "
                f"[S, k, D]; got {tuple(prompt_tokens.shape)} and "
                f"{tuple(representative_tokens.shape)}"
            )
        if prompt_tokens.shape[-1] != self.width:
            raise ValueError(
                f"TokenFusion of width {self.width} got tokens of width {prompt_tokens.shape[-1]}"
            )

    def extra_repr(self):
        return f"width={self.width}, attention_axis={self.attention_axis!r}"
