"""TokenFusion: the residual form, the two attention axes, inputs, dtypes."""

import pytest
import torch
from clip.model import convert_weights

from prompting.sep import TokenFusion
from tests.tolerances import (
    assert_close_in_norm,
    assert_far_in_norm,
    bf16_autocast_error,
    fp16_error,
    fp32_rtol,
)

S, K, WIDTH = 5, 3, 128  # 128 = two heads of 64: head splitting is exercised
FP32_RTOL = fp32_rtol(1, WIDTH)  # two fp32 orderings of one block of WIDTH channels


def layer_norm(x, ln):
    """LayerNorm written out: (x - mean) / sqrt(var + 1e-5) * weight + bias, over the last dim."""
    mean = x.mean(dim=-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(variance + 1e-5) * ln.weight + ln.bias


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def manual_attention(attn, query, key_value):
    """Multi-head attention of ``query`` [T, D] over ``key_value`` [T', D] with ``attn``'s
    weights and docs/methods/sep.md's D / 64 heads."""
    width = query.shape[-1]
    heads = width // 64
    head_dim = width // heads
    w_q, w_k, w_v = attn.in_proj_weight.chunk(3)
    b_q, b_k, b_v = attn.in_proj_bias.chunk(3)

    def split(x):  # [T, D] -> [heads, T, head_dim]
        return x.reshape(x.shape[0], heads, head_dim).transpose(0, 1)

    q = split(query @ w_q.T + b_q)
    k = split(key_value @ w_k.T + b_k)
    v = split(key_value @ w_v.T + b_v)
    weights = torch.softmax(q @ k.transpose(-1, -2) / head_dim**0.5, dim=-1)
    out = (weights @ v).transpose(0, 1).reshape(query.shape[0], width)
    return out @ attn.out_proj.weight.T + attn.out_proj.bias


def manual_fusion(tfm, prompt, representative, axis):
    """docs/methods/sep.md's TFM from the module's weights, every operation written out here."""
    query, key_value = layer_norm(prompt, tfm.ln_1), layer_norm(representative, tfm.ln_1)
    attended = torch.empty_like(prompt)
    if axis == "reference":  # each slot j: a sequence over the S inputs
        for j in range(prompt.shape[1]):
            attended[:, j] = manual_attention(tfm.attn, query[:, j], key_value[:, j])
    else:  # each input s: a sequence over its k tokens
        for s in range(prompt.shape[0]):
            attended[s] = manual_attention(tfm.attn, query[s], key_value[s])
    s1, s2 = tfm.scale_1, tfm.scale_2
    fused = s1 * representative + (1 - s1) * attended
    hidden = quick_gelu(layer_norm(fused, tfm.ln_2) @ tfm.mlp.c_fc.weight.T)
    return s2 * fused + (1 - s2) * (hidden @ tfm.mlp.c_proj.weight.T)


def make_fusion(axis="reference", seed=0, **kwargs):
    torch.manual_seed(seed)
    tfm = TokenFusion(WIDTH, attention_axis=axis, **kwargs)
    with torch.no_grad():  # make every term matter: non-default scales and LayerNorm affines
        tfm.scale_1.fill_(0.3)
        tfm.scale_2.fill_(0.6)
        for ln in (tfm.ln_1, tfm.ln_2):
            ln.weight.normal_(1.0, 0.2)
            ln.bias.normal_(0.0, 0.2)
    return tfm


def make_tokens(seed=1, shape=(S, K, WIDTH)):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator), torch.randn(shape, generator=generator)


@pytest.mark.parametrize("axis", ["reference", "per_input"])
def test_output_has_the_shape_of_the_inputs(axis):
    prompt, representative = make_tokens()
    assert make_fusion(axis)(prompt, representative).shape == (S, K, WIDTH)


@pytest.mark.numerical
@pytest.mark.parametrize("axis", ["reference", "per_input"])
def test_matches_manual_attention_with_prompt_query_and_representative_key_value(axis):
    tfm = make_fusion(axis)
    prompt, representative = make_tokens()
    with torch.no_grad():
        expected = manual_fusion(tfm, prompt, representative, axis)
        swapped = manual_fusion(tfm, representative, prompt, axis)
        out = tfm(prompt, representative)
    assert_close_in_norm(out, expected, FP32_RTOL)
    assert_far_in_norm(out, swapped, FP32_RTOL)


def test_reference_and_per_input_axes_give_different_outputs():
    prompt, representative = make_tokens()
    reference, per_input = make_fusion("reference"), make_fusion("per_input")
    per_input.load_state_dict(reference.state_dict())
    with torch.no_grad():
        reference_out = reference(prompt, representative)
        assert not torch.allclose(reference_out, per_input(prompt, representative))


def test_with_unit_scales_output_is_the_representative_tokens():
    tfm = make_fusion()
    with torch.no_grad():
        tfm.scale_1.fill_(1.0)
        tfm.scale_2.fill_(1.0)
    prompt, representative = make_tokens()
    # exact in IEEE arithmetic: 1 * R + 0 * (attention and MLP terms) is R
    assert torch.equal(tfm(prompt, representative), representative)


def test_with_attention_and_mlp_outputs_zeroed_output_is_scaled_representative_tokens():
    tfm = make_fusion()
    with torch.no_grad():
        tfm.attn.out_proj.weight.zero_()
        tfm.attn.out_proj.bias.zero_()
        tfm.mlp.c_proj.weight.zero_()
    prompt, representative = make_tokens()
    with torch.no_grad():
        out = tfm(prompt, representative)
    # a = 0 and MLP = 0 leave only the residual paths: out = s2 * s1 * R, whatever P is
    torch.testing.assert_close(out, 0.6 * 0.3 * representative)


@pytest.mark.numerical
def test_reference_axis_output_of_an_input_depends_on_the_other_inputs():
    tfm = make_fusion("reference")
    prompt, representative = make_tokens()
    changed = representative.clone()
    changed[0] += torch.randn(K, WIDTH)
    with torch.no_grad():
        before, after = tfm(prompt, representative), tfm(prompt, changed)
    assert_far_in_norm(after[1:], before[1:], FP32_RTOL)


@pytest.mark.numerical
def test_per_input_axis_output_of_an_input_ignores_the_other_inputs():
    tfm = make_fusion("per_input")
    prompt, representative = make_tokens()
    changed_prompt, changed_representative = prompt.clone(), representative.clone()
    changed_prompt[0] += torch.randn(K, WIDTH)
    changed_representative[0] += torch.randn(K, WIDTH)
    with torch.no_grad():
        before = tfm(prompt, representative)
        after = tfm(changed_prompt, changed_representative)
    assert_close_in_norm(after[1:], before[1:], FP32_RTOL)
    assert_far_in_norm(after[0], before[0], FP32_RTOL)


@pytest.mark.parametrize("width, heads", [(32, 1), (64, 1), (128, 2), (768, 12), (1024, 16)])
def test_heads_are_width_over_64_and_at_least_one(width, heads):
    assert TokenFusion(width).attn.num_heads == heads


def test_parameters_scales_and_state_dict_keys():
    tfm = TokenFusion(WIDTH, hidden_dim=48, scale_init=0.5)
    assert set(tfm.state_dict()) == {
        "ln_1.weight",
        "ln_1.bias",
        "ln_2.weight",
        "ln_2.bias",
        "attn.in_proj_weight",
        "attn.in_proj_bias",
        "attn.out_proj.weight",
        "attn.out_proj.bias",
        "mlp.c_fc.weight",
        "mlp.c_proj.weight",
        "scale_1",
        "scale_2",
    }
    assert tfm.mlp.c_fc.weight.shape == (48, WIDTH)
    assert tfm.mlp.c_proj.weight.shape == (WIDTH, 48)
    assert tfm.scale_1.item() == tfm.scale_2.item() == 0.5
    assert TokenFusion(WIDTH).scale_1.item() == 0.75


@pytest.mark.parametrize(
    "prompt_shape, representative_shape, message",
    [
        ((S, K, WIDTH), (S, K + 1, WIDTH), "same shape"),
        ((S, WIDTH), (S, WIDTH), "same shape"),
        ((S, K, WIDTH // 2), (S, K, WIDTH // 2), "width"),
    ],
)
def test_rejects_mismatched_or_wrong_width_inputs(prompt_shape, representative_shape, message):
    with pytest.raises(ValueError, match=message):
        TokenFusion(WIDTH)(torch.zeros(prompt_shape), torch.zeros(representative_shape))


def test_rejects_unknown_attention_axis():
    with pytest.raises(ValueError, match="per_input"):
        TokenFusion(WIDTH, attention_axis="per_slot")


@pytest.mark.numerical
def test_fp32_module_on_fp16_tokens_returns_fp16_close_to_fp32():
    tfm = make_fusion()
    prompt, representative = make_tokens()
    with torch.no_grad():
        expected = tfm(prompt, representative)
        out = tfm(prompt.half(), representative.half())
    assert out.dtype == torch.float16
    assert_close_in_norm(out.float(), expected, fp16_error(1))  # one block in fp16


@pytest.mark.numerical
def test_module_converted_like_clip_computes_in_fp16():
    tfm = make_fusion()
    prompt, representative = make_tokens()
    with torch.no_grad():
        expected = tfm(prompt, representative)
        convert_weights(tfm)  # as clip.build_model converts CLIP: matrices fp16, LayerNorms fp32
        assert tfm.attn.in_proj_weight.dtype == tfm.mlp.c_fc.weight.dtype == torch.float16
        out = tfm(prompt.half(), representative.half())
    assert out.dtype == torch.float16
    assert_close_in_norm(out.float(), expected, fp16_error(1))  # one block in fp16


@pytest.mark.numerical
def test_runs_under_bf16_autocast_with_gradients():
    tfm = make_fusion()
    prompt, representative = make_tokens()
    prompt.requires_grad_(True)
    with torch.no_grad():
        expected = tfm(prompt, representative)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = tfm(prompt, representative)
    assert out.dtype == torch.float32
    assert_close_in_norm(out, expected, bf16_autocast_error(1))  # one block under autocast
    out.float().square().sum().backward()
    assert prompt.grad.abs().sum() > 0
    assert tfm.attn.in_proj_weight.grad.abs().sum() > 0
