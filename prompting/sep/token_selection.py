"""Which pre-trained tokens SEP fuses into the prompt tokens ("representative tokens")."""

import torch

# "batch": token scores averaged over the batch, one index set for all images (the authors'
# code); "sample": each image picks its own tokens (the paper's wording).
SELECTION_MODES = ("batch", "sample")


def text_representative_tokens(x, n_ctx):
    """The ``n_ctx`` tokens after the context: class-name tokens, ".", [EOS], padding.

    ``x``: ``[n_cls, L, D]`` laid out as ``[SOS] c_1 .. c_n <rest>``; returns ``[n_cls, n_ctx, D]``.
    """
    if x.dim() != 3 or x.shape[1] < 1 + 2 * n_ctx:
        raise ValueError(
            f"Text tokens {tuple(x.shape)} are too short for {n_ctx} context tokens and "
            f"{n_ctx} representative tokens after them (need length >= {1 + 2 * n_ctx})"
        )
    return x[:, 1 + n_ctx : 1 + 2 * n_ctx]


def visual_representative_tokens(
    x, n_prompts, mode="batch", return_indices=False, gather_batch=None
):
    """The ``n_prompts`` pre-trained tokens with the largest mean squared activation.

    ``x``: ``[B, 1 + HW + m, D]`` whose last ``m = n_prompts`` tokens are the prompt tokens, which
    are never selected. Returns ``[B, m, D]`` in descending score order (and, with
    ``return_indices``, the ``[B, m]`` token indices). Mode "batch" averages the scores over the
    batch too and scores in ``x``'s dtype, as the authors' code does (in fp16, squares above 65504
    become inf and tie); mode "sample" scores each image on its own, in float32.
    ``gather_batch(scores)``: the per-image scores of the whole batch, when ``x`` is one
    process's share of it (mode "batch" then averages over the whole batch).
    """
    if mode not in SELECTION_MODES:
        raise ValueError(f'Visual token selection mode "{mode}" is not one of {SELECTION_MODES}')
    if x.dim() != 3 or not 1 <= n_prompts <= x.shape[1] - n_prompts:
        raise ValueError(
            f"Cannot select {n_prompts} representative tokens from visual tokens "
            f"{tuple(x.shape)} whose last {n_prompts} are prompt tokens"
        )
    pretrained = x[:, :-n_prompts]  # [B, 1 + HW, D]: [CLS] and patches
    batch_size, _, width = pretrained.shape
    with torch.no_grad():
        if mode == "batch":
            scores = pretrained.pow(2).mean(dim=-1)  # [B, 1 + HW]
            if gather_batch is not None:
                scores = gather_batch(scores)
            scores = scores.mean(dim=0)  # [1 + HW]
            indices = scores.topk(n_prompts).indices.unsqueeze(0).expand(batch_size, -1)
        else:
            scores = pretrained.float().pow(2).mean(dim=-1)  # [B, 1 + HW]
            indices = scores.topk(n_prompts, dim=-1).indices  # [B, m]
    tokens = pretrained.gather(1, indices.unsqueeze(-1).expand(-1, -1, width))  # [B, m, D]
    return (tokens, indices) if return_indices else tokens
