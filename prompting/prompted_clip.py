"""What every method's CLIP model shares: frozen encoders, logits, and a text-feature cache."""

import contextlib
from collections.abc import Callable, Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F


def normalize(features: torch.Tensor) -> torch.Tensor:
    return features / features.norm(dim=-1, keepdim=True)


def consistency_loss(features: torch.Tensor, frozen_features: torch.Tensor) -> torch.Tensor:
    """1 - mean cosine similarity of matching rows, in fp32: KgCoOp's and SEP's consistency term.

    0 when the features equal frozen CLIP's; eps as the reference implementations' 1e-7.
    """
    cosine = F.cosine_similarity(features.float(), frozen_features.float(), dim=-1, eps=1e-7)
    return 1.0 - cosine.mean()


class StrayTrainableTensors(RuntimeError):
    """A model whose tensors requiring grad differ from its learnable module's parameters."""


def total_loss(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    """The loss optimised: the sum of ``training_loss``'s terms."""
    return sum(terms.values())


class PromptedCLIP(nn.Module):
    """The protocol of a prompted CLIP model: what every method's model provides.

    A method subclasses this and provides:

    - ``self.learnable`` (set in ``__init__``): the one ``nn.Module`` holding every tensor the
      method trains, and nothing else. The trainer optimises it, registers it under the
      trainer's ``LEARNER_NAME`` and checkpoints its ``state_dict()``. ``None`` (the default)
      means the method trains nothing (zero-shot CLIP). ``check_trained_parameters`` (run at
      build time) requires the parameters with ``requires_grad`` to be exactly its parameters:
      CLIP is frozen, and a trainable tensor outside ``learnable`` would never be optimised.
    - ``compute_text_features()``: the class text features, ``[n_cls, embed_dim]``
      L2-normalised; what ``text_features()`` returns outside ``cached_text_features()``.
    - ``forward(image)``: ``[B, 3, H, W]`` images -> ``[B, n_cls]`` logits (``self.logits``
      applies CLIP's frozen temperature).

    It may override:

    - ``training_loss(image, label)`` -> ``(logits, terms)``: ``terms`` maps each loss term's
      name to its scalar tensor as it enters the loss (weight included); the loss optimised is
      their sum (``total_loss``). Default: cross-entropy of ``forward``'s logits, ``{"ce": ...}``.
      The trainer logs every term when there are several.
    - ``text_depends_on_image``: True when the class text features change with the input image
      (CoCoOp); ``compute_text_features`` is then not cached at evaluation.
    - ``class_bound_keys``: keys of ``learnable.state_dict()`` tied to the training classes,
      not loaded when a checkpoint is evaluated on other classes.
    - ``batch_coupling``: what makes an image's logits depend on the other images of its
      batch, one phrase per cause (SEP's reference attention axis and batch-mode token
      selection); empty when nothing does. ``couples_batch_images`` is whether it is non-empty:
      prediction then runs each image alone and says why, and the distributed tests check that
      the coupled computation gathers the whole batch. A loss that is a batch mean couples no
      logits; a training step that needs the whole batch's gradients is the trainer's
      ``TRAINING_STEP_COUPLING``.
    - ``forward_moves_learnable``: True when a forward pass writes into the learned tensors
      (HiCroPL's in-place flow, as its authors' code does); prediction then runs each image
      alone from the loaded tensors, so an answer is that of the first pass after loading.

    Model pieces take plain keyword arguments, never a config node: the trainer reads the
    config and passes values.
    """

    text_depends_on_image: bool = False
    class_bound_keys: tuple[str, ...] = ()
    batch_coupling: tuple[str, ...] = ()
    forward_moves_learnable: bool = False

    def __init__(self, clip_model: nn.Module) -> None:
        super().__init__()
        self.image_encoder = clip_model.visual
        self.logit_scale = clip_model.logit_scale
        self.learnable: nn.Module | None = None
        self._cached_text_features: torch.Tensor | None = None

    @property
    def couples_batch_images(self) -> bool:
        return bool(self.batch_coupling)

    @property
    def dtype(self) -> torch.dtype:
        return self.image_encoder.conv1.weight.dtype

    def compute_text_features(self) -> torch.Tensor:
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute_text_features() -> [n_cls, embed_dim]"
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(image) -> logits")

    def text_features(self) -> torch.Tensor:
        if self._cached_text_features is not None:
            return self._cached_text_features
        return self.compute_text_features()

    @contextlib.contextmanager
    def cached_text_features(self) -> Iterator[None]:
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

    def gather_batch_with(self, gather: Callable[[torch.Tensor], torch.Tensor] | None) -> None:
        """``gather(tensor)``: rows of the whole batch when a batch is split over processes
        (None: this process's rows are the batch). Only methods whose image outputs depend on
        the other images of the batch use it."""

    def logits(self, image_features: torch.Tensor, text_features: torch.Tensor) -> torch.Tensor:
        # CLIP's temperature stays frozen in every method of this family.
        return self.logit_scale.exp().detach() * image_features @ text_features.t()

    def training_loss(
        self, image: torch.Tensor, label: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        logits = self(image)
        return logits, {"ce": F.cross_entropy(logits, label)}

    def check_trained_parameters(self) -> None:
        """Raise StrayTrainableTensors unless the tensors requiring grad are exactly
        ``learnable``'s parameters."""
        learnable = set() if self.learnable is None else set(self.learnable.parameters())
        names = {parameter: name for name, parameter in self.named_parameters()}
        trained = {parameter for parameter in names if parameter.requires_grad}
        stray = sorted(names[p] for p in trained - learnable)
        frozen = sorted(names[p] for p in learnable - trained)
        problems = []
        if stray:
            problems.append(
                f"{stray} require grad outside {type(self).__name__}.learnable and would never "
                "be trained: move them into learnable or freeze them"
            )
        if frozen:
            problems.append(f"learnable's {frozen} do not require grad")
        if problems:
            raise StrayTrainableTensors("; ".join(problems))
