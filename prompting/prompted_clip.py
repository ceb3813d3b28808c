"""What every method's CLIP model shares: frozen encoders, logits, and a text-feature cache."""

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F


def normalize(features):
    return features / features.norm(dim=-1, keepdim=True)


def consistency_loss(features, frozen_features):
    """1 - mean cosine similarity of matching rows, in fp32: KgCoOp's and SEP's consistency term.

    0 when the features equal frozen CLIP's; eps as the reference implementations' 1e-7.
    """
    cosine = F.cosine_similarity(features.float(), frozen_features.float(), dim=-1, eps=1e-7)
    return 1.0 - cosine.mean()


class PromptedCLIP(nn.Module):
    """Base class of the methods' models.

    Subclasses put every trained tensor under ``self.learnable`` (an nn.Module that the trainer
    registers, optimises and checkpoints; None for zero-shot CLIP) and implement
    ``compute_text_features`` and ``forward(image) -> logits``.
    """

    # Whether class text features change with the input image (CoCoOp) or not (CoOp, SEP...).
    text_depends_on_image = False
    # Keys of ``learnable.state_dict()`` that are tied to the training classes and not loaded
    # when a checkpoint is evaluated on other classes.
    class_bound_keys = ()

    def __init__(self, clip_model):
        super().__init__()
        self.image_encoder = clip_model.visual
        self.logit_scale = clip_model.logit_scale
        self.learnable = None
        self._cached_text_features = None

    @property
    def dtype(self):
        return self.image_encoder.conv1.weight.dtype

    def compute_text_features(self):
        raise NotImplementedError

    def text_features(self):
        if self._cached_text_features is not None:
            return self._cached_text_features
        return self.compute_text_features()

    @contextlib.contextmanager
    def cached_text_features(self):
        """Within this block, text features are computed once (evaluation: they do not change)."""
        if self.text_depends_on_image:
            yield
            return
        with torch.no_grad():
            self._cached_text_features = self.compute_text_features()
        try:
            yield
        finally:
            self._cached_text_features = None

    def gather_batch_with(self, gather):
        """``gather(tensor)``: rows of the whole batch when a batch is split over processes
        (None: this process's rows are the batch). Only methods whose image outputs depend on
        the other images of the batch use it."""

    def logits(self, image_features, text_features):
        # CLIP's temperature stays frozen in every method of this family.
        return self.logit_scale.exp().detach() * image_features @ text_features.t()

    def training_loss(self, image, label):
        """(logits, loss); methods with extra terms override this."""
        logits = self(image)
        return logits, F.cross_entropy(logits, label)
