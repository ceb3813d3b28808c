"""TCP's class-aware prompts: tokens computed from frozen class text features by a small
meta-net, replacing the context tokens inside the text encoder before one block."""

from collections import OrderedDict

import torch.nn as nn
from clip.model import QuickGELU

from run.user_errors import ModelOptionError

from .deep_prompts import replace_tokens
from .prompt_learner import ContextPromptLearner
from .text_encoder import TextEncoder


class ClassAwarePromptLearner(ContextPromptLearner):
    """CoOp's context plus the meta-net ``E -> E/4 -> n_ctx * D_t`` that turns each class's
    frozen text feature into ``n_ctx`` class-aware tokens of the text width."""

    def __init__(self, classnames, clip_model, n_ctx, ctx_init="", class_template="{}."):
        super().__init__(
            classnames, clip_model, n_ctx=n_ctx, ctx_init=ctx_init, class_template=class_template
        )
        embed_dim = clip_model.text_projection.shape[1]
        width = clip_model.ln_final.weight.shape[0]
        self.meta_net = nn.Sequential(
            OrderedDict(
                [
                    ("linear1", nn.Linear(embed_dim, embed_dim // 4)),
                    ("activation", QuickGELU()),
                    ("linear2", nn.Linear(embed_dim // 4, self.n_ctx * width)),
                ]
            )
        )

    def class_tokens(self, class_features):
        """``[n_cls, E]`` frozen class features -> ``[n_cls, n_ctx, D_t]`` class-aware tokens."""
        tokens = self.meta_net(class_features.float())  # [n_cls, n_ctx * D_t]
        return tokens.reshape(tokens.shape[0], self.n_ctx, -1)


class ClassTokenTextEncoder(TextEncoder):
    """CLIP's text encoder whose context positions ``1..n_ctx`` are replaced by per-class
    tokens before block ``block`` (0-based): the blocks from there on see the class-aware
    tokens instead of what the earlier blocks made of the learned context."""

    def __init__(self, clip_model, block, checkpoint_blocks=False):
        super().__init__(clip_model, checkpoint_blocks=checkpoint_blocks)
        depth = len(self.transformer.resblocks)
        if not 1 <= block < depth:
            raise ModelOptionError(
                f"TRAINER.TCP.CLASS_TOKEN_DEPTH {block + 1} does not fit this CLIP's {depth} text "
                f"blocks: the class-aware tokens enter before block 2..{depth} (1-based), so set "
                f"it between 2 and {depth}"
            )
        self.block = block
        self._class_tokens = None

    def forward(self, prompt_embeddings, tokenized_prompts, class_tokens):
        self._class_tokens = class_tokens  # [n_cls, n_ctx, D_t]
        try:
            return super().forward(prompt_embeddings, tokenized_prompts)
        finally:
            self._class_tokens = None

    def before_block(self, index, x):
        if index != self.block:
            return x
        return replace_tokens(x, self._class_tokens, start=1)  # after [SOS]
