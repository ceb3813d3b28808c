"""CLIP's two encoders written out plainly from its weights, with prompt-token rewrites.

Shared by the independent statements of IVLP, MaPLe and PromptSRC. Nothing here comes from
prompting/ or trainers/: layer norm, multi-head attention, the MLP and the patch embedding are
explicit matrix products over CLIP's tensors, one sequence at a time, in fp32, over all 77 text
positions (no padding is skipped).
"""

import torch
from clip import clip


def layer_norm(x, ln):
    x = x.float()
    mean = x.mean(dim=-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(variance + ln.eps) * ln.weight.float() + ln.bias.float()


def attention(x, attn, causal):
    """Multi-head self-attention of one sequence ``x`` [n, D]."""
    n, width = x.shape
    heads = attn.num_heads
    head_dim = width // heads
    w_q, w_k, w_v = attn.in_proj_weight.float().split(width)
    b_q, b_k, b_v = attn.in_proj_bias.float().split(width)
    out = torch.zeros(n, width)
    for h in range(heads):
        cols = slice(h * head_dim, (h + 1) * head_dim)
        q = x @ w_q[cols].t() + b_q[cols]
        k = x @ w_k[cols].t() + b_k[cols]
        v = x @ w_v[cols].t() + b_v[cols]
        scores = q @ k.t() / head_dim**0.5
        if causal:  # position i sees positions 0..i
            scores = scores.masked_fill(torch.ones(n, n).triu(1).bool(), float("-inf"))
        out[:, cols] = torch.softmax(scores, dim=-1) @ v
    return out @ attn.out_proj.weight.float().t() + attn.out_proj.bias.float()


def residual_block(x, block, causal):
    x = x + attention(layer_norm(x, block.ln_1), block.attn, causal)
    hidden = layer_norm(x, block.ln_2) @ block.mlp.c_fc.weight.float().t()
    hidden = hidden + block.mlp.c_fc.bias.float()
    hidden = hidden * torch.sigmoid(1.702 * hidden)  # QuickGELU
    return x + hidden @ block.mlp.c_proj.weight.float().t() + block.mlp.c_proj.bias.float()


def token_embeddings(clip_model, texts):
    """Token ids [n, 77] and their embeddings [n, 77, Dt] of plain-text prompts."""
    tokens = clip.tokenize(texts)
    return tokens, clip_model.token_embedding.weight.float()[tokens]


def encode_text(clip_model, embeddings, tokens, deep_prompts=None, n_ctx=0):
    """Text features [n, E]: ``deep_prompts[i]`` [n_ctx, Dt] replaces positions 1..n_ctx before
    block i (for each block index i in the dict)."""
    deep_prompts = deep_prompts or {}
    features = []
    for sequence, ids in zip(embeddings, tokens):
        x = sequence.float() + clip_model.positional_embedding.float()
        for index, block in enumerate(clip_model.transformer.resblocks):
            if index in deep_prompts:
                x = torch.cat([x[:1], deep_prompts[index].float(), x[1 + n_ctx :]])
            x = residual_block(x, block, causal=True)
        eos = int(ids.argmax())  # [EOS] has the largest token id
        features.append(
            layer_norm(x[eos], clip_model.ln_final) @ clip_model.text_projection.float()
        )
    return torch.stack(features)


def patch_tokens(visual, image):
    """One image [3, H, W] -> patch embeddings [HW, Dv] (conv1 as a matrix product)."""
    width, channels, patch, _ = visual.conv1.weight.shape
    grid = image.shape[-1] // patch
    patches = image.float().reshape(channels, grid, patch, grid, patch)
    patches = patches.permute(1, 3, 0, 2, 4).reshape(grid * grid, channels * patch * patch)
    return patches @ visual.conv1.weight.float().reshape(width, -1).t()


def encode_image(clip_model, images, prompts=None, deep_prompts=None):
    """Image features [B, E]: ``prompts`` [m, Dv] appended after [CLS] + patches (before ln_pre);
    ``deep_prompts[i]`` [m, Dv] replaces those last m tokens before block i."""
    visual = clip_model.visual
    deep_prompts = deep_prompts or {}
    features = []
    for image in images:
        x = torch.cat([visual.class_embedding.float()[None], patch_tokens(visual, image)])
        x = x + visual.positional_embedding.float()
        m = 0
        if prompts is not None:
            m = prompts.shape[0]
            x = torch.cat([x, prompts.float()])
        x = layer_norm(x, visual.ln_pre)
        for index, block in enumerate(visual.transformer.resblocks):
            if index in deep_prompts:
                x = torch.cat([x[: x.shape[0] - m], deep_prompts[index].float()])
            x = residual_block(x, block, causal=False)
        features.append(layer_norm(x[0], visual.ln_post) @ visual.proj.float())
    return torch.stack(features)


def unit(x):
    return x / x.norm(dim=-1, keepdim=True)


def prompted_text_inputs(clip_model, phrase, classnames, ctx):
    """The class prompts "<phrase> <name>." with positions 1..n_ctx set to ``ctx`` [n_ctx, Dt]."""
    tokens, embeddings = token_embeddings(
        clip_model, [f"{phrase} {name.replace('_', ' ')}." for name in classnames]
    )
    n_ctx = ctx.shape[0]
    embeddings[:, 1 : 1 + n_ctx] = ctx.float()
    return tokens, embeddings
