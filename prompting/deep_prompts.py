"""Deep prompts: learned or computed tokens that replace the prompt tokens before later blocks.

VPT-deep and IVLP learn one set per block up to a depth; MaPLe computes the vision set from
the text set at every call. Both encoders take them as ``deep_prompts``, a sequence whose
``k``-th entry ``[n, D]`` (or ``[batch, n, D]``) replaces the prompt tokens before block
``k + 1``; block 0 sees the prompts inserted at the input.
"""

import torch


def replace_tokens(x, prompts, start):
    """``x`` ``[L, batch, D]`` with positions ``start .. start + n - 1`` replaced by ``prompts``
    ``[n, D]`` (shared by the batch) or ``[batch, n, D]``."""
    n_prompts = prompts.shape[-2]
    prompts = prompts.type(x.dtype).expand(x.shape[1], -1, -1).permute(1, 0, 2)  # [n, batch, D]
    return torch.cat([x[:start], prompts, x[start + n_prompts :]])


def check_deep_prompts(deep_prompts, depth, n_prompts, encoder):
    """Raise ValueError unless ``deep_prompts`` fit an encoder of ``depth`` blocks whose prompt
    tokens are ``n_prompts`` long."""
    if len(deep_prompts) > depth - 1:
        raise ValueError(
            f"{len(deep_prompts)} deep prompts for the {encoder}'s {depth} blocks: they replace "
            f"the prompt tokens before blocks 1..{depth - 1}, so at most {depth - 1}"
        )
    lengths = sorted({prompts.shape[-2] for prompts in deep_prompts} - {n_prompts})
    if lengths:
        raise ValueError(
            f"Deep prompts of {lengths} tokens cannot replace the {encoder}'s {n_prompts} "
            "prompt tokens"
        )


def deep_prompt_for(deep_prompts, index):
    """The deep prompt that replaces the prompt tokens before block ``index``, or None."""
    if deep_prompts is None or not 1 <= index <= len(deep_prompts):
        return None
    return deep_prompts[index - 1]
