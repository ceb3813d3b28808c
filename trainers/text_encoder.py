"""CLIP's text transformer applied to prompt embeddings instead of token ids."""
import torch
import torch.nn as nn
from clip import clip
from torch.utils.checkpoint import checkpoint


class TextEncoder(nn.Module):
    """Encodes ``[n_prompts, L, D]`` prompt embeddings; pools at each prompt's [EOS] token.

    With ``checkpoint_blocks`` the residual blocks are recomputed in the backward pass instead of
    storing their activations: memory grows far slower with the number of classes (ImageNet's 1000).
    """

    def __init__(self, clip_model, checkpoint_blocks=False):
        super().__init__()
        self.transformer = clip_model.transformer
        self.positional_embedding = clip_model.positional_embedding
        self.ln_final = clip_model.ln_final
        self.text_projection = clip_model.text_projection
        self.checkpoint_blocks = checkpoint_blocks

    def forward(self, prompt_embeddings, tokenized_prompts):
        dtype = self.text_projection.dtype  # the weights' dtype (positional_embedding stays fp32)
        x = prompt_embeddings.type(dtype) + self.positional_embedding.type(dtype)
        x = x.permute(1, 0, 2)  # [n_prompts, L, D] -> [L, n_prompts, D]
        for block in self.transformer.resblocks:
            if self.checkpoint_blocks and torch.is_grad_enabled():
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        x = x.permute(1, 0, 2)
        x = self.ln_final(x).type(dtype)
        eos_positions = tokenized_prompts.argmax(dim=-1)  # [EOS] has the largest token id
        return x[torch.arange(x.shape[0]), eos_positions] @ self.text_projection


def tokenize(prompts, device=None):
    tokens = torch.cat([clip.tokenize(prompt) for prompt in prompts])
    return tokens if device is None else tokens.to(device)


@torch.no_grad()
def encode_prompts_normalized(clip_model, prompts, batch_size=256):
    """Frozen CLIP text features of plain-text prompts, L2-normalised, ``[n_prompts, embed_dim]``."""
    device = clip_model.token_embedding.weight.device
    features = []
    for start in range(0, len(prompts), batch_size):
        tokens = tokenize(prompts[start : start + batch_size], device)
        features.append(clip_model.encode_text(tokens))
    features = torch.cat(features)
    return features / features.norm(dim=-1, keepdim=True)
