"""An independent, deliberately naive statement of docs/methods/sep.md, to check the numbers.

It shares no code with trainers/ or prompting/: prompts are tokenized and embedded here,
attention is written out with explicit loops and matrix products from the TFM's weights (with
the method note's head count, width / 64, not the module's), and CLIP is run block by block
from its state. ``dtype`` is the precision CLIP computes in (fp16 for an fp16 CLIP); the TFMs
compute in fp32, as the trained tensors are fp32 in every mode (README, Precision).
"""

import torch
import torch.nn.functional as F
from clip import clip


def layer_norm(x, ln, dtype=torch.float32):
    """CLIP's LayerNorm: computed in fp32, returned in ``dtype``."""
    out = F.layer_norm(x.float(), ln.weight.shape, ln.weight.float(), ln.bias.float(), ln.eps)
    return out.to(dtype)


def attention(query, key, value, attn):
    """Multi-head attention of one sequence: query/key/value [n, D], the note's D / 64 heads."""
    width = query.shape[-1]
    heads = max(1, width // 64)
    head_dim = width // heads
    w_q, w_k, w_v = attn.in_proj_weight.float().split(width)
    b_q, b_k, b_v = attn.in_proj_bias.float().split(width)
    q = (query @ w_q.t() + b_q).view(-1, heads, head_dim).transpose(0, 1)
    k = (key @ w_k.t() + b_k).view(-1, heads, head_dim).transpose(0, 1)
    v = (value @ w_v.t() + b_v).view(-1, heads, head_dim).transpose(0, 1)
    weights = torch.softmax(q @ k.transpose(1, 2) / head_dim**0.5, dim=-1)
    out = (weights @ v).transpose(0, 1).reshape(-1, width)
    return out @ attn.out_proj.weight.float().t() + attn.out_proj.bias.float()


def token_fusion(tfm, prompt, representative, axis):
    """The TFM of docs/methods/sep.md on [S, k, D] inputs, one sequence at a time, in fp32."""
    p = layer_norm(prompt, tfm.ln_1)
    r = layer_norm(representative, tfm.ln_1)
    attended = torch.zeros_like(p)
    if axis == "reference":  # each prompt slot j attends across the S inputs
        for j in range(p.shape[1]):
            attended[:, j] = attention(p[:, j], r[:, j], r[:, j], tfm.attn)
    else:  # each input attends within its own k tokens
        for s in range(p.shape[0]):
            attended[s] = attention(p[s], r[s], r[s], tfm.attn)
    s1, s2 = tfm.scale_1.float(), tfm.scale_2.float()
    y = s1 * representative.float() + (1 - s1) * attended
    hidden = layer_norm(y, tfm.ln_2) @ tfm.mlp.c_fc.weight.float().t()
    hidden = hidden * torch.sigmoid(1.702 * hidden)
    return s2 * y + (1 - s2) * (hidden @ tfm.mlp.c_proj.weight.float().t())


def prompt_embeddings(clip_model, ctx, classnames):
    """``[SOS] ctx_1..ctx_n <name> . [EOS]`` embeddings [n_cls, 77, D] and their token ids."""
    n_ctx = ctx.shape[0]
    texts = [" ".join(["X"] * n_ctx) + " " + name.replace("_", " ") + "." for name in classnames]
    tokens = clip.tokenize(texts)
    with torch.no_grad():
        embeddings = clip_model.token_embedding(tokens).float()
    embeddings = torch.cat(
        [embeddings[:, :1], ctx.float().expand(len(texts), -1, -1), embeddings[:, 1 + n_ctx :]],
        dim=1,
    )
    return embeddings, tokens


def text_features(clip_model, ctx, classnames, tfms, axis, dtype=torch.float32):
    """Prompted text features: TFM_l before block l for l in tfms (dict layer -> TFM)."""
    embeddings, tokens = prompt_embeddings(clip_model, ctx, classnames)
    n_ctx = ctx.shape[0]
    x = embeddings.to(dtype) + clip_model.positional_embedding.to(dtype)
    for index, block in enumerate(clip_model.transformer.resblocks):
        if index in tfms:
            fused = token_fusion(
                tfms[index], x[:, 1 : 1 + n_ctx], x[:, 1 + n_ctx : 1 + 2 * n_ctx], axis
            )
            x = torch.cat([x[:, :1], fused.to(dtype), x[:, 1 + n_ctx :]], dim=1)
        x = block(x.permute(1, 0, 2)).permute(1, 0, 2)
    x = layer_norm(x, clip_model.ln_final, dtype)
    return x[torch.arange(len(tokens)), tokens.argmax(-1)] @ clip_model.text_projection.to(dtype)


def frozen_text_features(clip_model, prompts):
    """g0: frozen CLIP on literal prompts, normalised."""
    with torch.no_grad():
        return unit(clip_model.encode_text(clip.tokenize(prompts)))


def representative_indices(x, m, mode):
    """x [B, N + m, D] -> indices [B, m] of the top-m pre-trained tokens by mean x^2.

    Batch mode scores in x's dtype (the reference's fp16 scores), sample mode in fp32.
    """
    pretrained = x[:, :-m] if mode == "batch" else x[:, :-m].float()
    scores = (pretrained**2).mean(dim=2)  # [B, N]
    if mode == "batch":
        scores = scores.mean(dim=0, keepdim=True).expand_as(scores)
    return torch.stack([torch.argsort(row.float(), descending=True)[:m] for row in scores])


def image_features(clip_model, images, visual_prompts, tfms, mode, axis, dtype=torch.float32):
    visual = clip_model.visual
    m = visual_prompts.shape[0]
    x = visual.conv1(images.to(dtype))
    x = x.flatten(2).transpose(1, 2)
    cls = visual.class_embedding.to(dtype).expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], dim=1) + visual.positional_embedding.to(dtype)
    x = torch.cat([x, visual_prompts.to(dtype).expand(x.shape[0], -1, -1)], dim=1)
    x = layer_norm(x, visual.ln_pre, dtype)
    for index, block in enumerate(visual.transformer.resblocks):
        if index in tfms:
            idx = representative_indices(x, m, mode)
            representative = torch.stack([x[b, idx[b]] for b in range(x.shape[0])])
            fused = token_fusion(tfms[index], x[:, -m:], representative, axis)
            x = torch.cat([x[:, :-m], fused.to(dtype)], dim=1)
        x = block(x.permute(1, 0, 2)).permute(1, 0, 2)
    return layer_norm(x[:, 0], visual.ln_post, dtype) @ visual.proj.to(dtype)


def unit(x):
    return x / x.norm(dim=-1, keepdim=True)


def sep_logits_and_loss(
    clip_model, images, labels, text_inputs, vision_inputs, prototype, frozen_text, weights
):
    """Logits and the total loss of docs/methods/sep.md for the given learned tensors.

    ``text_inputs``: (ctx, classnames, text TFMs, axis); ``vision_inputs``: (visual prompt
    tokens, visual TFMs, selection mode, axis). The loss is computed in fp32.
    """
    dtype = clip_model.visual.conv1.weight.dtype
    g = unit(text_features(clip_model, *text_inputs, dtype=dtype))
    text = unit(g + frozen_text.to(dtype))
    with torch.no_grad():
        f0 = unit(clip_model.visual(images.to(dtype)))
    f = unit(image_features(clip_model, images, *vision_inputs, dtype=dtype))
    image = unit(f + f0)
    logits = clip_model.logit_scale.exp() * image @ text.t()
    text, image, f0, frozen_text = text.float(), image.float(), f0.float(), frozen_text.float()
    cos = torch.nn.functional.cosine_similarity
    proto = unit(prototype.float())
    loss = (
        F.cross_entropy(logits.float(), labels)
        + weights["text"] * (1 - cos(text, frozen_text, dim=-1).mean())
        + weights["visual"] * (1 - cos(f0, image, dim=-1).mean())
        + weights["proto"]
        * (
            F.cross_entropy(weights["scale"] * unit(image) @ proto.t(), labels)
            + F.cross_entropy(weights["scale"] * f0 @ proto.t(), labels)
        )
    )
    return logits, loss
