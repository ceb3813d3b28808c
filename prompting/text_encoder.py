"""CLIP's text transformer applied to prompt embeddings instead of token ids.

It runs the text tower of OpenAI's ``clip`` and of OpenCLIP alike: ``prompting/backbones``
says how each implementation's blocks are called and its features projected.
"""

import functools

import torch
import torch.nn as nn
from clip import clip
from torch.utils.checkpoint import checkpoint

from run.user_errors import ModelOptionError

from .backbones import backbone_of, project_text
from .backbones.base import projection_dtype
from .deep_prompts import check_deep_prompts, deep_prompt_for, replace_tokens


def used_length(tokenized_prompts, minimum=1):
    """One past the last [EOS] position among ``[n_prompts, L]`` token ids (at least ``minimum``).

    Under CLIP's causal mask a position only sees the positions before it, so the positions after
    every prompt's [EOS] (padding) cannot change any [EOS] feature: the text transformer can stop
    there. Prompts of ImageNet's class names end by position 16 of CLIP's 77.
    """
    last_eos = int(tokenized_prompts.argmax(dim=-1).max())  # [EOS] has the largest token id
    return min(max(last_eos + 1, minimum), tokenized_prompts.shape[-1])


class TextEncoder(nn.Module):
    """Encodes ``[n_prompts, L, D]`` prompt embeddings; pools at each prompt's [EOS] token.

    With ``checkpoint_blocks`` the residual blocks are recomputed in the backward pass instead of
    storing their activations: memory grows far slower with the number of classes (ImageNet's 1000).
    With ``skip_padding`` (default) the blocks run only up to the last [EOS] of the prompts
    (``used_length``): the same features and gradients, for a fraction of the compute and memory.

    ``forward``'s ``deep_prompts`` (IVLP, MaPLe): a sequence whose ``k``-th entry ``[n_ctx, D]``
    (or ``[n_prompts, n_ctx, D]``) replaces the context positions ``1..n_ctx`` before block
    ``k + 1`` (see ``prompting/deep_prompts.py``); ``before_block`` then sees the result.
    """

    def __init__(self, clip_model, checkpoint_blocks=False, skip_padding=True, min_length=1):
        super().__init__()
        self.backbone = backbone_of(clip_model)  # not a module: holds no weights of its own
        self.transformer = clip_model.transformer
        self.positional_embedding = clip_model.positional_embedding
        self.ln_final = clip_model.ln_final
        self.text_projection = clip_model.text_projection
        for frozen in (
            self.transformer,
            self.positional_embedding,
            self.ln_final,
            self.text_projection,
        ):
            frozen.requires_grad_(False)
        self.checkpoint_blocks = checkpoint_blocks
        self.skip_padding = skip_padding and self.backbone.text_accepts_shorter_sequences
        self.min_length = min_length  # positions a subclass reads beyond the last [EOS]

    @property
    def dtype(self):
        # the weights' dtype (positional_embedding stays fp32)
        return projection_dtype(self.text_projection)

    def before_block(self, index, x):
        """``x`` ``[L, n_prompts, D]`` as block ``index`` receives it; methods that rewrite
        tokens inside the encoder (SEP) override this."""
        return x

    def forward(self, prompt_embeddings, tokenized_prompts, deep_prompts=None):
        n_ctx = deep_prompts[0].shape[-2] if deep_prompts else 0
        if deep_prompts:
            check_deep_prompts(deep_prompts, len(self.transformer.resblocks), n_ctx, "text encoder")
        dtype = self.dtype
        length = prompt_embeddings.shape[1]
        if self.skip_padding:
            length = used_length(tokenized_prompts, minimum=max(self.min_length, 1 + n_ctx))
            prompt_embeddings = prompt_embeddings[:, :length]
            tokenized_prompts = tokenized_prompts[:, :length]
        x = prompt_embeddings.type(dtype) + self.positional_embedding[:length].type(dtype)
        x = x.permute(1, 0, 2)  # [n_prompts, L, D] -> [L, n_prompts, D]
        for index, block in enumerate(self.transformer.resblocks):
            deep_prompt = deep_prompt_for(deep_prompts, index)
            if deep_prompt is not None:
                x = replace_tokens(x, deep_prompt, start=1)  # after [SOS]
            x = run_block(
                block,
                self.before_block(index, x),
                self.checkpoint_blocks,
                self.backbone.run_text_block,
            )
        x = x.permute(1, 0, 2)
        x = self.ln_final(x).type(dtype)
        eos_positions = tokenized_prompts.argmax(dim=-1).to(x.device)  # [EOS]: the largest id
        pooled = x[torch.arange(x.shape[0], device=x.device), eos_positions]  # [n_prompts, D]
        return project_text(pooled, self.text_projection)


def run_block(block, x, checkpointed, run=None):
    """One CLIP residual block, called as ``run(block, x)`` (a backbone's ``run_*_block``) or
    ``block(x)``; checkpointed, its activations are recomputed in backward."""
    call = block if run is None else functools.partial(run, block)
    if checkpointed and torch.is_grad_enabled():
        return checkpoint(call, x, use_reentrant=False)
    return call(x)


class PromptTooLong(ModelOptionError):
    """A prompt (context and class name) longer than CLIP's text context."""


def _openai_tokenize(prompts):
    return torch.cat([clip.tokenize(prompt) for prompt in prompts])


def _tokenize_one(prompt, tokenizer):
    try:
        return tokenizer([prompt])
    except RuntimeError as error:
        if "too long for context length" not in str(error):
            raise
        context_length = str(error).rsplit(" ", 1)[-1]
        shown = prompt if len(prompt) <= 160 else "..." + prompt[-160:]
        raise PromptTooLong(
            f'The prompt "{shown}" is longer than CLIP\'s text context of {context_length} '
            "tokens: shorten the class name at its end (in the dataset's class-name file or split "
            "file) or the learned context before it (N_CTX, CTX_INIT)."
        ) from None


def tokenize(prompts, device=None, tokenizer=None):
    """``[n_prompts, L]`` token ids by ``tokenizer`` (``tokenizer_of(clip_model)``; OpenAI
    CLIP's with ``L`` = 77 when None). A prompt longer than ``L`` is refused, naming it."""
    tokenizer = tokenizer or _openai_tokenize
    tokens = torch.cat([_tokenize_one(prompt, tokenizer) for prompt in prompts])
    return tokens if device is None else tokens.to(device)


@torch.no_grad()
def encode_prompts(clip_model, prompts, batch_size=256):
    """Frozen CLIP text features of plain-text prompts, [n_prompts, embed_dim] (unnormalised)."""
    device = clip_model.token_embedding.weight.device
    tokenizer = backbone_of(clip_model).tokenize
    features = []
    for start in range(0, len(prompts), batch_size):
        tokens = tokenize(prompts[start : start + batch_size], device, tokenizer)
        features.append(clip_model.encode_text(tokens))
    return torch.cat(features)


def encode_prompts_normalized(clip_model, prompts, batch_size=256):
    """Frozen CLIP text features of plain-text prompts, L2-normalised, [n_prompts, embed_dim]."""
    features = encode_prompts(clip_model, prompts, batch_size)
    return features / features.norm(dim=-1, keepdim=True)


def register_frozen_text_features(module, name, clip_model, prompts, label):
    """Log ``prompts`` as ``label: [...]`` and keep frozen CLIP's normalised features of them as
    ``module``'s non-persistent buffer ``name`` (``[n_cls, E]``): built once from the loaded CLIP,
    rebuilt for whichever classes the model is built for, never saved in a checkpoint."""
    print(f"{label}: {prompts}")
    module.register_buffer(name, encode_prompts_normalized(clip_model, prompts), persistent=False)
