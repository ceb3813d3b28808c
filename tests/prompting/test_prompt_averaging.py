"""Gaussian-weighted prompt aggregation against its plain statement."""

import pytest
import torch

from prompting.prompt_averaging import GaussianPromptAverage, gaussian_epoch_weights
from tests.tolerances import fp64_chain_rtol, relative_approx
from tests.trainers import independent_promptsrc as ref


def _weights_rtol(mean, std, epochs):
    """Float64 roundings behind one weight: (e - mean) / std and its square (2), amplified by exp
    by the exponent's size |x| (exp(x(1 + d)) = exp(x) exp(x d)); exp itself (within 1 ulp: 2);
    the reference's density scale 1 / (std sqrt(2 pi)) (3); the sum over `epochs` positive
    densities (epochs - 1) and the division by it (1)."""
    largest_exponent = max(0.5 * ((epoch - mean) / std) ** 2 for epoch in range(1, epochs + 1))
    return fp64_chain_rtol(2 * max(largest_exponent, 1) + 2 + 3 + epochs)


@pytest.mark.parametrize("mean, std, epochs", [(15, 1, 20), (6, 10, 20), (30, 30, 50), (1, 0.5, 1)])
def test_gpa_weights_are_the_normalised_gaussian_density(mean, std, epochs):
    weights = gaussian_epoch_weights(mean, std, epochs)
    expected = ref.gaussian_epoch_weights(mean, std, epochs)
    assert weights == relative_approx(expected, _weights_rtol(mean, std, epochs))


def test_gpa_sum_of_weighted_epochs_is_copied_into_the_prompts():
    module = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.zeros(2, 3))})
    average = GaussianPromptAverage(module, mean=2.0, std=1.5, epochs=3)
    values = []
    for epoch in range(3):
        with torch.no_grad():
            module["a"].normal_()
        values.append(module["a"].detach().clone())
        average.add(module, epoch)
    average.copy_to(module)
    expected = ref.aggregated(values, ref.gaussian_epoch_weights(2.0, 1.5, 3))
    torch.testing.assert_close(module["a"].detach(), expected)
    assert list(average.state_dict()) == ["a"]


@pytest.mark.parametrize("mean, std, epochs", [(5.0, 0.0, 5), (5.0, 1.0, 0), (1e4, 1.0, 3)])
def test_weights_that_cannot_be_formed_are_refused(mean, std, epochs):
    with pytest.raises(ValueError):
        gaussian_epoch_weights(mean, std, epochs)
