"""An independent, deliberately naive statement of docs/methods/sep.md, to check the numbers.

It shares no code with trainers/: attention is written out with explicit loops and matrix
products from the TFM's weights, and CLIP is run block by block from its state.
"""

import torch
import torch.nn.functional as F


def layer_norm(x, ln):
    return F.layer_norm(x.float(), ln.weight.shape, ln.weight.float(), ln.bias.float(), ln.eps)


def attention(query, key, value, attn):
    """Multi-head attention of one sequence: query/key/value [n, D]."""
    width = query.shape[-1]
    heads = attn.num_heads
    w_q, w_k, w_v = attn.in_proj_weight.float().split(width)
    b_q, b_k, b_v = attn.in_proj_bias.float().split(width)
    q = (query @ w_q.t() + b_q).view(-1, heads, width // heads).transpose(0, 1)
    k = (key @ w_k.t() + b_k).view(-1, heads, width // heads).transpose(0, 1)
    v = (value @ w_v.t() + b_v).view(-1, heads, width // heads).transpose(0, 1)
    weights = torch.softmax(q @ k.transpose(1, 2) / (width // heads) ** 0.5, dim=-1)
    out = (weights @ v).transpose(0, 1).reshape(-1, width)
    return out @ attn.out_proj.weight.float().t() + attn.out_proj.bias.float()


def token_fusion(tfm, prompt, representative, axis):
    """The TFM of docs/methods/sep.md on [S, k, D] inputs, one attention sequence at a time."""
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


def text_features(clip_model, prompt_embeddings, tokens, n_ctx, tfms, axis):
    """Prompted text features: TFM_l before block l for l in tfms (dict layer -> TFM)."""
    x = prompt_embeddings.float() + clip_model.positional_embedding.float()
    for index, block in enumerate(clip_model.transformer.resblocks):
        if index in tfms:
            fused = token_fusion(
                tfms[index], x[:, 1 : 1 + n_ctx], x[:, 1 + n_ctx : 1 + 2 * n_ctx], axis
            )
            x = torch.cat([x[:, :1], fused, x[:, 1 + n_ctx :]], dim=1)
        x = block(x.permute(1, 0, 2)).permute(1, 0, 2)
    x = layer_norm(x, clip_model.ln_final)
    return x[torch.arange(len(tokens)), tokens.argmax(-1)] @ clip_model.text_projection.float()


def representative_indices(x, m, mode):
    """x [B, N + m, D] -> indices [B, m] of the top-m pre-trained tokens by mean x^2."""
    scores = (x[:, :-m].float() ** 2).mean(dim=2)  # [B, N]
    if mode == "batch":
        scores = scores.mean(dim=0, keepdim=True).expand_as(scores)
    return torch.stack([torch.argsort(row, descending=True)[:m] for row in scores])


def image_features(clip_model, images, visual_prompts, tfms, mode, axis):
    visual = clip_model.visual
    m = visual_prompts.shape[0]
    x = visual.conv1(images.float())
    x = x.flatten(2).transpose(1, 2)
    cls = visual.class_embedding.float().expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], dim=1) + visual.positional_embedding.float()
    x = torch.cat([x, visual_prompts.float().expand(x.shape[0], -1, -1)], dim=1)
    x = layer_norm(x, visual.ln_pre)
    for index, block in enumerate(visual.transformer.resblocks):
        if index in tfms:
            idx = representative_indices(x, m, mode)
            representative = torch.stack([x[b, idx[b]] for b in range(x.shape[0])])
            fused = token_fusion(tfms[index], x[:, -m:], representative, axis)
            x = torch.cat([x[:, :-m], fused], dim=1)
        x = block(x.permute(1, 0, 2)).permute(1, 0, 2)
    return layer_norm(x[:, 0], visual.ln_post) @ visual.proj.float()


def unit(x):
    return x / x.norm(dim=-1, keepdim=True)


def sep_logits_and_loss(
    clip_model, images, labels, text_inputs, vision_inputs, prototype, frozen_text, weights
):
    """Logits and the total loss of docs/methods/sep.md for the given learned tensors."""
    g = unit(text_features(clip_model, *text_inputs))
    text = unit(g + frozen_text)
    with torch.no_grad():
        f0 = unit(clip_model.visual(images.float()))
    f = unit(image_features(clip_model, images, *vision_inputs))
    image = unit(f + f0)
    logits = clip_model.logit_scale.exp() * image @ text.t()
    cos = torch.nn.functional.cosine_similarity
    proto = unit(prototype)
    loss = (
        F.cross_entropy(logits, labels)
        + weights["text"] * (1 - cos(text, frozen_text, dim=-1).mean())
        + weights["visual"] * (1 - cos(f0, image, dim=-1).mean())
        + weights["proto"]
        * (
            F.cross_entropy(weights["scale"] * unit(image) @ proto.t(), labels)
            + F.cross_entropy(weights["scale"] * f0 @ proto.t(), labels)
        )
    )
    return logits, loss
