"""SEP's encoders: the shared text and image encoders plus token fusion in ``before_block``.

Ownership: each encoder registers the CLIP modules it runs (``TextEncoder``,
``PromptedImageEncoder``), so ``.to()``, ``.half()`` and ``nn.DataParallel`` treat them like any
submodule, and freezes them.
Every learned tensor lives in one child module, which is what a trainer optimises and
checkpoints; its ``state_dict()`` holds only learned tensors:

- ``SEPTextEncoder.fusion_modules``: the text TFMs (the text context belongs to the prompt learner);
- ``SEPImageEncoder.visual_prompts``: the visual prompt tokens and the visual TFMs.

The encoders' own ``state_dict()`` includes CLIP's weights: do not checkpoint the encoders whole.
"""

import torch
import torch.nn as nn

from run.user_errors import ModelOptionError

from ..deep_prompts import replace_tokens
from ..image_encoder import PromptedImageEncoder
from ..text_encoder import TextEncoder
from .fusion_layers import LayerwiseTokenFusion, resolve_fusion_layers
from .token_selection import (
    SELECTION_MODES,
    text_representative_tokens,
    visual_representative_tokens,
)


class SEPTextEncoder(TextEncoder):
    """CLIP's text transformer on prompt embeddings, with a TFM before each fusion layer.

    Before block ``l`` in ``fusion_layers`` the context positions ``1..n_ctx`` are replaced by
    ``TFM_l(P = x[1 : 1+n_ctx], R = x[1+n_ctx : 1+2*n_ctx])``; fusion never changes the sequence
    length, so CLIP's causal mask and the [EOS] pooling position are untouched.

    ``fusion_layers``: 0-based block indices, None or empty for the default (all blocks but the
    first), see ``resolve_fusion_layers``. ``token_fusion_kwargs``: extra ``TokenFusion``
    arguments (``hidden_dim``, ``scale_init``, ``attention_axis``). ``gradient_checkpointing``
    recomputes each CLIP block in the backward pass, bounding memory for many classes.
    ``skip_padding`` runs the blocks only on the positions up to the last [EOS] of the prompts,
    and at least up to the representative tokens (``used_length``): under the causal mask the
    later positions reach neither an [EOS] feature nor a fused token, so the features and
    gradients are those of the full 77 positions, for a fraction of the cost.
    """

    def __init__(
        self,
        clip_model,
        n_ctx,
        fusion_layers=None,
        token_fusion_kwargs=None,
        gradient_checkpointing=False,
        skip_padding=False,
    ):
        super().__init__(
            clip_model,
            checkpoint_blocks=gradient_checkpointing,
            skip_padding=skip_padding,
            min_length=1 + 2 * n_ctx,
        )
        context_length = self.positional_embedding.shape[0]
        if not 1 <= n_ctx <= (context_length - 1) // 2:
            raise ModelOptionError(
                f"{n_ctx} text context tokens do not fit CLIP's context length {context_length} "
                "together with as many representative tokens after them"
            )
        self.n_ctx = n_ctx
        width = clip_model.ln_final.weight.shape[0]
        depth = len(self.transformer.resblocks)
        layers = resolve_fusion_layers(fusion_layers, depth, encoder="text encoder")
        self.fusion_modules = LayerwiseTokenFusion(layers, width, token_fusion_kwargs)

    @property
    def fusion_layers(self):
        return self.fusion_modules.layers

    def forward(self, prompt_embeddings, tokenized_prompts):
        """``[n_cls, L, Dt]`` prompt embeddings (context at positions ``1..n_ctx``) and their
        ``[n_cls, L]`` token ids -> ``[n_cls, embed_dim]`` features pooled at [EOS]."""
        self._check_inputs(prompt_embeddings, tokenized_prompts)
        return super().forward(prompt_embeddings, tokenized_prompts)

    def before_block(self, index, x):
        """``x`` ``[L, n_cls, Dt]`` with its context positions rebuilt by the block's TFM."""
        fusion = self.fusion_modules.for_block(index)
        if fusion is None:
            return x
        n_ctx = self.n_ctx
        tokens = x.permute(1, 0, 2)  # [n_cls, L, Dt]
        fused = fusion(tokens[:, 1 : 1 + n_ctx], text_representative_tokens(tokens, n_ctx))
        return replace_tokens(x, fused, start=1)  # [n_ctx, n_cls, Dt] after [SOS]

    def _check_inputs(self, prompt_embeddings, tokenized_prompts):
        width = self.positional_embedding.shape[1]
        if prompt_embeddings.dim() != 3 or prompt_embeddings.shape[-1] != width:
            raise ValueError(
                f"Prompt embeddings must be [n_cls, L, {width}]; "
                f"got {tuple(prompt_embeddings.shape)}"
            )
        if tuple(tokenized_prompts.shape) != tuple(prompt_embeddings.shape[:2]):
            raise ValueError(
                f"Tokenized prompts {tuple(tokenized_prompts.shape)} do not match prompt "
                f"embeddings {tuple(prompt_embeddings.shape)}"
            )
        length = prompt_embeddings.shape[1]
        if not 1 + 2 * self.n_ctx <= length <= self.positional_embedding.shape[0]:
            raise ValueError(
                f"Prompt length {length} must lie between {1 + 2 * self.n_ctx} ([SOS], context "
                f"and representative tokens) and CLIP's context length "
                f"{self.positional_embedding.shape[0]}"
            )


class VisualPrompts(nn.Module):
    """Everything the vision branch learns: ``m`` prompt tokens and one TFM per fusion layer."""

    def __init__(self, n_prompts, width, fusion_layers, token_fusion_kwargs=None):
        super().__init__()
        self.tokens = nn.Parameter(torch.empty(n_prompts, width))  # [m, Dv]
        nn.init.normal_(self.tokens, std=0.02)
        self.fusion_modules = LayerwiseTokenFusion(fusion_layers, width, token_fusion_kwargs)


def image_batch_coupling(selection_mode: str, attention_axis: str) -> tuple[str, ...]:
    """What makes an image's features depend on the other images of its batch, one phrase per
    cause (empty for the paper's "sample" selection and "per_input" axis). Text fusion couples
    the classes only, which every batch holds whole."""
    causes = []
    if selection_mode == "batch":
        causes.append(
            'selection mode "batch" picks one set of representative tokens from the scores of '
            "the whole batch"
        )
    if attention_axis == "reference":
        causes.append(
            'attention axis "reference": each image\'s prompt tokens attend to the '
            "representative tokens of every image of the batch"
        )
    return tuple(causes)


class SEPImageEncoder(PromptedImageEncoder):
    """CLIP's ViT with ``n_prompts`` appended prompt tokens, fused before each fusion layer.

    The prompt tokens are appended after [CLS] + patches once positional embeddings are added,
    before ``ln_pre`` (``PromptedImageEncoder``). Before block ``l`` in ``fusion_layers`` the
    last ``m`` tokens become ``TFM_l(P = x[-m:], R)``, with ``R`` the ``m`` pre-trained tokens
    of largest mean squared activation (``selection_mode`` "batch" or "sample", see
    ``visual_representative_tokens``). Output: the projected [CLS] token. Other arguments as
    for ``SEPTextEncoder``.
    """

    def __init__(
        self,
        clip_model,
        n_prompts,
        fusion_layers=None,
        selection_mode="batch",
        token_fusion_kwargs=None,
        gradient_checkpointing=False,
    ):
        super().__init__(clip_model, "SEP", gradient_checkpointing=gradient_checkpointing)
        if selection_mode not in SELECTION_MODES:
            raise ModelOptionError(
                f'Visual selection mode "{selection_mode}" is not one of {SELECTION_MODES}'
            )
        n_pretrained = self.n_pretrained_tokens
        if not 1 <= n_prompts <= n_pretrained:
            raise ModelOptionError(
                f"{n_prompts} visual prompt tokens: need 1..{n_pretrained} (as many representative "
                "tokens are picked among [CLS] and the patches)"
            )
        self.n_prompts = n_prompts
        self.selection_mode = selection_mode
        layers = resolve_fusion_layers(fusion_layers, self.depth, encoder="image encoder")
        self.visual_prompts = VisualPrompts(n_prompts, self.width, layers, token_fusion_kwargs)
        fusions = list(self.visual_prompts.fusion_modules.values())
        # without a fusion layer no token is selected or fused
        self.batch_coupling = (
            image_batch_coupling(selection_mode, fusions[0].attention_axis) if fusions else ()
        )
        # Set while a batch is split over processes: gather_batch(rows) -> the whole batch's rows.
        self.gather_batch = None

    @property
    def fusion_layers(self):
        return self.visual_prompts.fusion_modules.layers

    def forward(self, images):
        """``[B, 3, H, W]`` images -> ``[B, embed_dim]`` features."""
        return super().forward(images, prompts=self.visual_prompts.tokens)

    def before_block(self, index, x):
        """``x`` ``[1 + HW + m, B, Dv]`` with its prompt tokens rebuilt by the block's TFM."""
        fusion = self.visual_prompts.fusion_modules.for_block(index)
        if fusion is None:
            return x
        n_prompts = self.n_prompts
        tokens = x.permute(1, 0, 2)  # [B, 1 + HW + m, Dv]
        gather = self.gather_batch
        representative = visual_representative_tokens(
            tokens, n_prompts, self.selection_mode, gather_batch=gather
        )
        batch_representative = None
        if gather is not None and fusion.attention_axis == "reference":
            batch_representative = gather(representative)  # [B_all, m, Dv]
        fused = fusion(tokens[:, -n_prompts:], representative, batch_representative)  # [B, m, Dv]
        return replace_tokens(x, fused, start=x.shape[0] - n_prompts)
