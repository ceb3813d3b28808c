"""Tolerances for comparing two float computations of the same maths, derived from the precision
and the size of the computation instead of a constant that passed on one CPU.

Error model. Every rounding to a float format with unit roundoff u (fp32: 2**-24, fp16: 2**-11)
is a relative error of at most u. A value computed through a chain of N roundings carries N such
errors; independent roundings add in quadrature, so its relative error is about sqrt(N) * u (the
usual probabilistic forward-error estimate; the worst case N * u is never approached by
independent roundings). Two implementations that order the operations differently each carry
such an error, so they differ by at most twice that. PyTorch accumulates the products of an fp16
matrix product in fp32 on every CPU unless told otherwise
(`torch._C._get_cpu_allow_fp16_reduced_precision_reduction()`, False by default, checked by the
fp16 tests), so a product of any inner width is one fp16 rounding of its result: width enters
the fp16 estimate only through fp32 sums, negligible at u16. In fp32 the sum itself is the error
source: an inner product of width W adds sqrt(W) roundings.

Errors are compared as a norm over the whole output (`assert_close_in_norm`): an entry-wise
relative test is unfair to entries near zero, where cancellation makes a tiny absolute error a
large relative one, and a fixed absolute floor is what does not carry over between machines.
"""

import math

import pytest
import torch

from tools.results.table import CSV_DECIMALS

FP32_UNIT_ROUNDOFF = 2.0**-24
FP16_UNIT_ROUNDOFF = 2.0**-11
FP64_UNIT_ROUNDOFF = 2.0**-53

# Roundings a token's value passes through in one CLIP residual block (clip.model's
# ResidualAttentionBlock): ln_1, the q/k/v projection, the attention scores, softmax, the
# weighted sum of values, the output projection, the residual add, ln_2, c_fc, QuickGELU's
# sigmoid and product, c_proj and the second residual add.
ROUNDINGS_PER_BLOCK = 13
# The conditioning of LayerNorm, softmax and the final normalisation of features may amplify the
# rounding errors of their inputs; a factor 2 over the estimate covers it. Measured, the fp16 SEP
# oracle (tests/sep_trainer/test_half_precision.py, 8 blocks: estimate 10.2 u16) was 0.8 to 7
# u16 from the exact result over 6 seeds x 2 attention axes, with 1 and 2 threads, with torch's
# AVX2 and its plain (ATEN_CPU_CAPABILITY=default) kernels, wherever it selected the same tokens.
CONDITIONING_MARGIN = 2.0


def forward_error(unit_roundoff: float, n_blocks: int, width: int = 1) -> float:
    """Relative error norm of one forward pass through `n_blocks` transformer blocks of `width`
    channels, against the exact result (`width` counts only where sums round in the format
    itself: fp32 and fp64; fp16 and bf16 products accumulate in fp32)."""
    sums = width if unit_roundoff in (FP32_UNIT_ROUNDOFF, FP64_UNIT_ROUNDOFF) else 1
    return CONDITIONING_MARGIN * math.sqrt(n_blocks * ROUNDINGS_PER_BLOCK * sums) * unit_roundoff


def fp32_rtol(n_blocks: int, width: int) -> float:
    """Two fp32 implementations of the same forward pass: each within its error of the exact."""
    return 2 * forward_error(FP32_UNIT_ROUNDOFF, n_blocks, width)


def fp64_rtol(n_blocks: int, width: int) -> float:
    """Two float64 implementations of the same forward pass."""
    return 2 * forward_error(FP64_UNIT_ROUNDOFF, n_blocks, width)


def fp16_error(n_blocks: int) -> float:
    """One fp16 forward pass against the exact result (an fp32 run of the same weights, whose own
    error is 2**13 times smaller)."""
    return forward_error(FP16_UNIT_ROUNDOFF, n_blocks)


def clip_size(clip_model) -> tuple[int, int]:
    """(blocks on the longest path to a logit, widest residual width) of a CLIP: a logit is the
    product of an image feature and a text feature, so both encoders' blocks are on its path."""
    blocks = len(clip_model.visual.transformer.resblocks) + len(clip_model.transformer.resblocks)
    width = max(clip_model.visual.conv1.out_channels, clip_model.ln_final.weight.shape[0])
    return blocks, width


def prompted_clip_size(clip_model) -> tuple[int, int]:
    """`clip_size` of a prompted CLIP: a method adds at most one module per CLIP block on a
    logit's path (SEP's token fusions, deep prompts' mappings): at most twice the blocks."""
    blocks, width = clip_size(clip_model)
    return 2 * blocks, width


def text_encoder_size(clip_model) -> tuple[int, int]:
    """(blocks, residual width) of a CLIP's text encoder."""
    return len(clip_model.transformer.resblocks), clip_model.ln_final.weight.shape[0]


def image_encoder_size(clip_model) -> tuple[int, int]:
    """(blocks, residual width) of a ViT CLIP's image encoder."""
    return len(clip_model.visual.transformer.resblocks), clip_model.visual.conv1.out_channels


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    difference = (actual.double() - expected.double()).norm()
    return (difference / expected.double().norm().clamp_min(torch.finfo(torch.float64).tiny)).item()


def assert_close_in_norm(actual: torch.Tensor, expected: torch.Tensor, rtol: float, what: str = ""):
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    error = relative_error(actual, expected)
    assert error <= rtol, f"{what}: relative error {error:.3g} > {rtol:.3g}"


BF16_UNIT_ROUNDOFF = 2.0**-8
# A backward pass through a block rounds about twice as often as its forward (each product has
# two gradient products), and runs after the forward it differentiates: three forwards' worth.
BACKWARD_ROUNDINGS_FACTOR = 3


def fp32_gradient_rtol(n_blocks: int, width: int) -> float:
    """Two fp32 computations of the gradient of a loss through `n_blocks` blocks of `width`."""
    return fp32_rtol(BACKWARD_ROUNDINGS_FACTOR * n_blocks, width)


def fp32_sum_rtol(n_terms: int, roundings_per_term: int = 0) -> float:
    """Two fp32 computations of a sum (or mean) of `n_terms` positive terms, each computed
    through `roundings_per_term` roundings: the sum carries its terms' relative error (at most
    theirs, being a weighted average of it) plus sqrt(n) roundings of accumulation; x2."""
    return 2 * (math.sqrt(n_terms) + roundings_per_term) * FP32_UNIT_ROUNDOFF


def cosine_term_atol(weight: float, rtol: float) -> float:
    """Absolute bound on `weight * (1 - cos)` of two features each within `rtol` of exact (in
    norm): the cosine of unit rows moves by at most the sum of their errors, whatever the size
    of the term (a relative bound would not do: 1 - cos of close features cancels)."""
    return weight * 2 * rtol


def unit_norm_atol(width: int) -> float:
    """How far from 1 the measured norm of an fp32 vector of `width` entries, divided by its
    norm, may be: two sums of `width` squares (the norm divided by and the one measured,
    sqrt(width) roundings each) and two roundings (the division, the square root), x2."""
    return 2 * (2 * math.sqrt(width) + 2) * FP32_UNIT_ROUNDOFF


def bf16_autocast_error(n_blocks: int) -> float:
    """A forward pass under bfloat16 autocast (products rounded to bf16, sums and norms in fp32)
    against the fp32 one, whose own error is 2**16 times smaller."""
    return forward_error(BF16_UNIT_ROUNDOFF, n_blocks)


def assert_far_in_norm(actual: torch.Tensor, other: torch.Tensor, rtol: float, what: str = ""):
    """`actual` differs from `other` by more than `rtol`: a comparison at that tolerance would
    tell them apart (the negative check that keeps a positive one meaningful)."""
    assert actual.shape == other.shape, f"{what}: shape {actual.shape} != {other.shape}"
    error = relative_error(actual, other)
    assert error > rtol, f"{what}: relative difference {error:.3g} <= {rtol:.3g}"


def fp64_chain_rtol(n_roundings: float) -> float:
    """Two float64 computations of a scalar through a short chain of `n_roundings` roundings:
    each within n * u of the exact (the worst case, small enough to use for a chain this short;
    an input's error amplified by a factor k counts as k roundings), x2."""
    return 2 * n_roundings * FP64_UNIT_ROUNDOFF


def fp64_atol(magnitude: float, n_roundings: float) -> float:
    """`fp64_chain_rtol` as an absolute bound on values of at most `magnitude`."""
    return magnitude * fp64_chain_rtol(n_roundings)


def last_decimal_atol(decimals: int) -> float:
    """How far a value written rounded to `decimals` decimals is from the value: half a unit of
    the last decimal."""
    return 0.5 * 10.0**-decimals


def written_decimals_atol(decimals: int, magnitude: float, n_roundings: float) -> float:
    """A value written with `decimals` decimals and read back, against the same value computed
    in float64 through `n_roundings` roundings: the writer rounds to the nearest written
    decimal (at most half a unit of the last one away) and each side carries its float64 error
    (negligible beside it, but what keeps a value that rounds exactly half a unit away inside)."""
    return last_decimal_atol(decimals) + fp64_atol(magnitude, n_roundings)


# A results-table value is a percentage (at most 100) at the end of a float64 chain of at most
# 10 roundings: the mean of 3 seeds (2 additions, 1 division), the mean of 3 datasets' means
# (3 more) and the harmonic mean 2 * b * n / (b + n) of two of them (4 more).
PERCENT = 100.0
RESULTS_CHAIN_ROUNDINGS = 10
RESULTS_FP64_ATOL = fp64_atol(PERCENT, RESULTS_CHAIN_ROUNDINGS)
# The same value read back from the results CSV, which writes CSV_DECIMALS decimals.
RESULTS_CSV_ATOL = written_decimals_atol(CSV_DECIMALS, PERCENT, RESULTS_CHAIN_ROUNDINGS)


def cross_entropy_atol(logit_atol: float) -> float:
    """Absolute bound on how far a softmax cross-entropy (or its mean over a batch) moves when
    no logit moves by more than `logit_atol`: d CE = -d l_label + sum_j p_j d l_j, at most
    twice the largest logit change."""
    return 2 * logit_atol


def relative_approx(expected, rtol: float):
    """`pytest.approx` with only the relative `rtol`: its default absolute 1e-12 would wave
    through every value smaller than that (a far epoch's Gaussian weight: e**-98)."""
    return pytest.approx(expected, rel=rtol, abs=0)
