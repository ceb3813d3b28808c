"""HiCroPL's bidirectional prompt flow (Zheng et al., ICCV 2025; docs/methods/hicropl.md).

Deep prompts in both encoders, ``depth`` sets per encoder. Up to block ``k`` (``cross_layer``)
knowledge flows from text to vision: each early text set is pooled into one proxy token by its
own layer-specific knowledge proxy (LKP), and a knowledge mapper rewrites every early visual
prompt token from all ``k`` text proxies at once (the hierarchical, multi-scale mapping). From
block ``k`` on the flow is reversed: late visual sets are pooled, and a second mapper rewrites
the late text prompts.
"""

import copy
from collections import OrderedDict

import torch
import torch.nn as nn
from clip.model import QuickGELU

from .deep_prompt_model import DeepTextPrompts, prompt_sets


class KnowledgeProxy(nn.Module):
    """LKP: a learned token attends over one block's prompt set -> ``[1, D]``."""

    def __init__(self, width, heads):
        super().__init__()
        self.token = nn.Parameter(torch.randn(1, width))  # N(0, 1), as the authors draw it
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, prompts):
        token = self.token.type(prompts.dtype)
        keys = self.ln_1(prompts)  # [n, D]
        token = token + self.attn(self.ln_1(token), keys, keys, need_weights=False)[0]
        return self.ln_2(token)  # [1, D]


class KnowledgeMapper(nn.Module):
    """Prompt tokens of one modality (``width``) attend to the proxies of the other
    (``source_width``) through a pre-norm attention and MLP block: ``[m, width]`` out."""

    def __init__(self, width, source_width, heads):
        super().__init__()
        self.linear_q = nn.Linear(width, width)
        self.linear_k = nn.Linear(source_width, width)
        self.linear_v = nn.Linear(source_width, width)
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict(
                [
                    ("c_fc", nn.Linear(width, 4 * width)),
                    ("gelu", QuickGELU()),
                    ("c_proj", nn.Linear(4 * width, width)),
                ]
            )
        )
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, prompts, proxies):
        query = self.linear_q(prompts)  # [m, width]
        key, value = self.linear_k(proxies), self.linear_v(proxies)  # [s, width]
        attended = self.attn(self.ln_1(query), self.ln_1(key), self.ln_1(value), need_weights=False)
        query = query + attended[0]
        return query + self.mlp(self.ln_2(query))


def identical_copies(module, count):
    """``count`` deep copies of one freshly initialised module: they start identical."""
    return nn.ModuleList(copy.deepcopy(module) for _ in range(count))


FLOWS = ("in_place", "differentiable")


def flow_moves_prompts(flow: str) -> bool:
    """Whether every forward pass writes the mapped prompts into the learned parameters."""
    return flow == "in_place"


class CrossModalPrompts(nn.Module):
    """HiCroPL's learned tensors: the text prompts (``text``, a ``DeepTextPrompts``), the visual
    prompts (``visual.<i>``, ``[n, Dv]``), the LKPs (``text_proxies.<i>`` for blocks ``< k``,
    ``visual_proxies.<i>`` for blocks ``k..depth-1``) and the two mappers.

    ``flow``: ``"in_place"`` (the authors' code) writes the mapped prompts into the prompt
    parameters at every call of ``prompt_layers`` and the encoders use those parameters, so no
    gradient reaches the proxies or mappers and each call maps the previous call's result again;
    ``"differentiable"`` (the paper) uses the mapped prompts as a function of the parameters,
    leaving them unchanged.
    """

    def __init__(self, text: DeepTextPrompts, clip_model, cross_layer, heads, flow="in_place"):
        super().__init__()
        depth = len(text.layers())
        if not 1 <= cross_layer < depth:
            raise ValueError(
                f"cross layer {cross_layer} must lie between 1 and depth - 1 = {depth - 1}"
            )
        if flow not in FLOWS:
            raise ValueError(f"unknown flow {flow!r}: one of {FLOWS}")
        text_width = clip_model.ln_final.weight.shape[0]
        vision_width = clip_model.visual.conv1.out_channels
        n_ctx = text.prompt_learner.n_ctx
        self.text = text
        self.cross_layer = cross_layer
        self.flow = flow
        # As the authors' code: every visual set starts from the same draw, every LKP of a
        # modality from the same module (token included).
        first_visual = prompt_sets(1, n_ctx, vision_width)[0]
        self.visual = nn.ParameterList(
            nn.Parameter(first_visual.detach().clone()) for _ in range(depth)
        )
        self.text_to_visual = KnowledgeMapper(vision_width, text_width, heads)
        self.visual_to_text = KnowledgeMapper(text_width, vision_width, heads)
        self.text_proxies = identical_copies(KnowledgeProxy(text_width, heads), cross_layer)
        self.visual_proxies = identical_copies(
            KnowledgeProxy(vision_width, heads), depth - cross_layer
        )

    def mapped_prompts(self):
        """The flow as a function of the parameters: text and visual sets, ``depth`` each."""
        text, visual, k = self.text.layers(), list(self.visual), self.cross_layer
        n_ctx = visual[0].shape[0]
        text_proxies = torch.cat([lkp(p) for lkp, p in zip(self.text_proxies, text[:k])])  # [k, Dt]
        early_visual = self.text_to_visual(torch.cat(visual[:k]), text_proxies)  # [k * n, Dv]
        visual_proxies = torch.cat(
            [lkp(p) for lkp, p in zip(self.visual_proxies, visual[k:])]
        )  # [depth - k, Dv]
        late_text = self.visual_to_text(torch.cat(text[k:]), visual_proxies)  # [(depth-k)*n, Dt]
        return (
            text[:k] + list(late_text.view(-1, n_ctx, late_text.shape[-1]).unbind(0)),
            list(early_visual.view(k, n_ctx, -1).unbind(0)) + visual[k:],
        )

    def prompt_layers(self):
        """``(text sets, visual sets)`` that enter the encoders, ``depth`` of each; entry 0 is
        the input's. Compute once per forward pass: with ``in_place`` every call moves them."""
        if self.flow == "differentiable":
            return self.mapped_prompts()
        with torch.no_grad():
            text, visual = self.mapped_prompts()
            k = self.cross_layer
            for parameter, mapped in zip(self.visual[:k], visual[:k]):
                parameter.copy_(mapped)
            for parameter, mapped in zip(self.text.deep[k - 1 :], text[k:]):
                parameter.copy_(mapped)
        return self.text.layers(), list(self.visual)
