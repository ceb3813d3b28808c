"""Gaussian-weighted prompt aggregation (PromptSRC): a weighted sum of the prompts over epochs."""

import math

import torch
import torch.nn as nn


def gaussian_epoch_weights(mean, std, epochs):
    """Weights of epochs 1..``epochs``: the N(mean, std^2) density at each, scaled to sum to 1."""
    if std <= 0 or epochs < 1:
        raise ValueError(f"GPA needs std > 0 and at least one epoch; got std {std}, {epochs}")
    density = [math.exp(-0.5 * ((epoch - mean) / std) ** 2) for epoch in range(1, epochs + 1)]
    total = sum(density)
    if total == 0:  # every epoch so far from the mean that the density underflows
        raise ValueError(f"GPA mean {mean} and std {std} give every epoch 1..{epochs} weight 0")
    return [value / total for value in density]


def sum_buffer_name(name):
    """The buffer of ``GaussianPromptAverage`` holding the sum of parameter ``name``."""
    return name.replace(".", "__")


class GaussianPromptAverage(nn.Module):
    """The running sum ``S = sum_e w_e * P^(e)`` of every parameter of a learnable module.

    Buffers only (one fp32 sum per parameter, named by ``sum_buffer_name``), so that the
    sum is saved and restored with the other checkpoints: a resumed run ends with the same
    aggregate. ``add`` after each epoch, ``copy_to`` once the last epoch is added.
    """

    def __init__(self, learnable, mean, std, epochs):
        super().__init__()
        self.weights = gaussian_epoch_weights(mean, std, epochs)
        self._names = [name for name, _ in learnable.named_parameters()]
        for name, param in learnable.named_parameters():
            self.register_buffer(sum_buffer_name(name), torch.zeros_like(param.float()))

    def sums(self):
        return {name: getattr(self, sum_buffer_name(name)) for name in self._names}

    @torch.no_grad()
    def add(self, learnable, epoch):
        """Add the parameters after 0-based ``epoch``, weighted by that epoch's weight."""
        weight = self.weights[epoch]
        sums = self.sums()
        for name, param in learnable.named_parameters():
            sums[name].add_(param.detach().float(), alpha=weight)

    @torch.no_grad()
    def copy_to(self, learnable):
        sums = self.sums()
        for name, param in learnable.named_parameters():
            param.copy_(sums[name].to(param.dtype))
