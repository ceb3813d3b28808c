"""CoOp's learnable context: ``[SOS] c_1 .. c_n <class tokens> . [EOS]`` per class."""

import torch
import torch.nn as nn

from run.user_errors import ConfigError

from .backbones import tokenizer_of
from .text_encoder import tokenize

CLASS_TOKEN_POSITIONS = ("end", "middle", "front")


def initial_context(clip_model, n_ctx, ctx_init="", n_cls=None, keep_rest_of_phrase=False):
    """Context vectors and their textual placeholder.

    With ``ctx_init`` (e.g. "a photo of a") the vectors are that phrase's token embeddings and
    ``n_ctx`` becomes its word count; otherwise N(0, 0.02). ``n_cls`` gives class-specific context.
    With ``keep_rest_of_phrase`` (IVLP, MaPLe, PromptSRC) only the phrase's first ``n_ctx``
    tokens become context; the placeholder is the whole phrase, so the rest stays as fixed words.
    """
    dtype = clip_model.token_embedding.weight.dtype
    width = clip_model.ln_final.weight.shape[0]
    if ctx_init:
        phrase = ctx_init.replace("_", " ")
        tokenizer = tokenizer_of(clip_model)
        tokens = tokenize([phrase], clip_model.token_embedding.weight.device, tokenizer)
        if not keep_rest_of_phrase:
            n_ctx = len(phrase.split(" "))
        elif n_ctx > (n_tokens := phrase_token_count(phrase, tokenizer)):
            raise ValueError(
                f'"{phrase}" has {n_tokens} tokens, fewer than the {n_ctx} '
                "context tokens it should initialise"
            )
        with torch.no_grad():
            embedding = clip_model.token_embedding(tokens).type(dtype)
        vectors = embedding[0, 1 : 1 + n_ctx, :].clone()
        if n_cls is not None:
            vectors = vectors.unsqueeze(0).repeat(n_cls, 1, 1)
        return vectors.cpu(), phrase
    shape = (n_ctx, width) if n_cls is None else (n_cls, n_ctx, width)
    vectors = torch.empty(*shape, dtype=dtype)
    nn.init.normal_(vectors, std=0.02)
    return vectors, " ".join(["X"] * n_ctx)


def phrase_token_count(phrase, tokenizer=None):
    """Tokens of ``phrase`` in CLIP's vocabulary, without [SOS] and [EOS]."""
    return int((tokenize([phrase], tokenizer=tokenizer)[0] != 0).sum()) - 2


class ContextPromptLearner(nn.Module):
    """Learnable context vectors shared by all classes (or one set per class).

    The class-dependent token embeddings are non-persistent buffers: checkpoints hold only the
    context, so a model trained on some classes can be evaluated on others.
    """

    def __init__(
        self,
        classnames,
        clip_model,
        n_ctx,
        ctx_init="",
        class_specific=False,
        class_token_position="end",
        class_template="{}.",
        keep_rest_of_phrase=False,
        context=None,
    ):
        """``context``: ``(vectors, placeholder)`` built by the caller instead of
        ``initial_context`` (ProGrad's phrase padded with zero vectors)."""
        super().__init__()
        if class_token_position not in CLASS_TOKEN_POSITIONS:
            raise ConfigError(
                f'CLASS_TOKEN_POSITION "{class_token_position}" is not one of '
                f"{CLASS_TOKEN_POSITIONS}"
            )
        n_cls = len(classnames)
        ctx_vectors, placeholder = context or initial_context(
            clip_model,
            n_ctx,
            ctx_init,
            n_cls=n_cls if class_specific else None,
            keep_rest_of_phrase=keep_rest_of_phrase,
        )
        self.ctx = nn.Parameter(ctx_vectors)  # [n_ctx, D] or [n_cls, n_ctx, D]
        self.n_ctx = ctx_vectors.shape[-2]
        self.n_cls = n_cls
        self.class_token_position = class_token_position
        self.context_placeholder = placeholder
        print(f'Initial context: "{placeholder}"')
        print(f"Number of context words (tokens): {self.n_ctx}")

        classnames = [name.replace("_", " ") for name in classnames]
        class_texts = [class_template.format(name) for name in classnames]
        prompts = [f"{placeholder} {text}" for text in class_texts]
        device = clip_model.token_embedding.weight.device
        tokenizer = tokenizer_of(clip_model)
        tokenized = tokenize(prompts, device, tokenizer)
        with torch.no_grad():
            embedding = clip_model.token_embedding(tokenized).type(ctx_vectors.dtype)
        # name lengths in tokens, for the middle/front positions (the "." is not part of the name)
        self.name_lengths = [
            len(tokenize([name], tokenizer=tokenizer)[0].nonzero()) - 2 for name in classnames
        ]
        self.register_buffer("tokenized_prompts", tokenized, persistent=False)  # [n_cls, L]
        self.register_buffer("token_prefix", embedding[:, :1, :], persistent=False)  # [SOS]
        self.register_buffer("token_suffix", embedding[:, 1 + self.n_ctx :, :], persistent=False)

    def context(self):
        """``[n_cls, n_ctx, D]`` whether the context is shared or class-specific."""
        if self.ctx.dim() == 2:
            return self.ctx.unsqueeze(0).expand(self.n_cls, -1, -1)
        return self.ctx

    def forward(self):
        return self.assemble(self.context())

    def assemble(self, ctx):
        """Prompt embeddings ``[n_cls, L, D]`` for per-class context ``ctx`` [n_cls, n_ctx, D]."""
        prefix, suffix = self.token_prefix, self.token_suffix
        if self.class_token_position == "end":
            return torch.cat([prefix, ctx, suffix], dim=1)
        prompts = []
        half = self.n_ctx // 2
        for i, name_len in enumerate(self.name_lengths):
            name = suffix[i : i + 1, :name_len]
            rest = suffix[i : i + 1, name_len:]
            ctx_i = ctx[i : i + 1]
            if self.class_token_position == "middle":
                parts = [prefix[i : i + 1], ctx_i[:, :half], name, ctx_i[:, half:], rest]
            else:  # front
                parts = [prefix[i : i + 1], name, ctx_i, rest]
            prompts.append(torch.cat(parts, dim=1))
        return torch.cat(prompts, dim=0)
