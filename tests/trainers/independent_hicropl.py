"""HiCroPL written out plainly (docs/methods/hicropl.md): the knowledge proxies, the mappers,
the flow between the encoders, the fusion with frozen CLIP and the loss, as matrix products over
the modules' tensors, in fp32. Nothing here comes from prompting/ or trainers/.
"""

import torch
import torch.nn.functional as F

from tests.trainers.independent_clip import encode_image, layer_norm, token_embeddings, unit
from tests.trainers.independent_ivlp import ivlp_features, logits_of


def multi_head_attention(query, key, value, attn):
    """Attention of ``query`` [m, D] over ``key``/``value`` [s, D] with ``attn``'s weights."""
    width = query.shape[-1]
    heads = attn.num_heads
    head_dim = width // heads
    w_q, w_k, w_v = attn.in_proj_weight.float().split(width)
    b_q, b_k, b_v = attn.in_proj_bias.float().split(width)
    out = []
    for h in range(heads):
        cols = slice(h * head_dim, (h + 1) * head_dim)
        q = query @ w_q[cols].t() + b_q[cols]
        k = key @ w_k[cols].t() + b_k[cols]
        v = value @ w_v[cols].t() + b_v[cols]
        out.append(torch.softmax(q @ k.t() / head_dim**0.5, dim=-1) @ v)
    return torch.cat(out, dim=-1) @ attn.out_proj.weight.float().t() + attn.out_proj.bias.float()


def linear(x, layer):
    return x @ layer.weight.float().t() + layer.bias.float()


def proxy_token(proxy, prompts):
    """LKP: z = LN2(t + MHA(LN1(t), LN1(P), LN1(P))), t the learned token, P one prompt set."""
    token = proxy.token.float()
    keys = layer_norm(prompts.float(), proxy.ln_1)
    token = token + multi_head_attention(layer_norm(token, proxy.ln_1), keys, keys, proxy.attn)
    return layer_norm(token, proxy.ln_2)


def mapped(mapper, prompts, proxies):
    """M(X, Z): Q = XWq, K = ZWk, V = ZWv; Q' = Q + MHA(LN1(Q), LN1(K), LN1(V));
    out = Q' + MLP(LN2(Q')) with MLP = c_proj(QuickGELU(c_fc(.)))."""
    query = linear(prompts.float(), mapper.linear_q)
    key = linear(proxies.float(), mapper.linear_k)
    value = linear(proxies.float(), mapper.linear_v)
    query = query + multi_head_attention(
        layer_norm(query, mapper.ln_1),
        layer_norm(key, mapper.ln_1),
        layer_norm(value, mapper.ln_1),
        mapper.attn,
    )
    hidden = linear(layer_norm(query, mapper.ln_2), mapper.mlp.c_fc)
    hidden = hidden * torch.sigmoid(1.702 * hidden)
    return query + linear(hidden, mapper.mlp.c_proj)


def flowed(learnable, text_sets, visual_sets):
    """Blocks < k: every early visual token attends to the proxies of all k early text sets;
    blocks >= k: every late text token to the proxies of all late visual sets."""
    k = learnable.cross_layer
    n_ctx = visual_sets[0].shape[0]
    text_proxies = torch.cat([proxy_token(p, s) for p, s in zip(learnable.text_proxies, text_sets)])
    visual_proxies = torch.cat(
        [proxy_token(p, s) for p, s in zip(learnable.visual_proxies, visual_sets[k:])]
    )
    early = mapped(learnable.text_to_visual, torch.cat(visual_sets[:k]), text_proxies)
    late = mapped(learnable.visual_to_text, torch.cat(text_sets[k:]), visual_proxies)
    text = list(text_sets[:k]) + list(late.split(n_ctx))
    visual = list(early.split(n_ctx)) + list(visual_sets[k:])
    return text, visual


def averaged_description_features(clip_model, descriptions):
    """Per class: mean of its sentences' unit features, made unit again."""
    rows = []
    for sentences in descriptions:
        tokens = token_embeddings(clip_model, sentences)[0]
        with torch.no_grad():
            rows.append(unit(unit(clip_model.encode_text(tokens).float()).mean(dim=0)))
    return torch.stack(rows)


def hicropl_logits_and_terms(
    clip_model, images, labels, classnames, phrase, learnable, frozen_text, weight
):
    """Logits and the loss terms (ce, text, image) of HiCroPL with ``learnable``'s tensors:
    f = unit(unit(f_prompted) + f_frozen) for both modalities."""
    text_sets = [t.detach() for t in learnable.text.layers()]
    visual_sets = [v.detach() for v in learnable.visual]
    with torch.no_grad():
        text, visual = flowed(learnable, text_sets, visual_sets)
    image, class_text = ivlp_features(clip_model, images, classnames, phrase, text, visual)
    frozen_image = unit(encode_image(clip_model, images))
    image = unit(image + frozen_image)
    class_text = unit(class_text + frozen_text)
    logits = logits_of(clip_model, image, class_text)
    terms = {
        "ce": F.cross_entropy(logits, labels),
        "text": weight * (1 - F.cosine_similarity(class_text, frozen_text).mean()),
        "image": weight * (1 - F.cosine_similarity(image, frozen_image).mean()),
    }
    return logits, terms, (text, visual)
