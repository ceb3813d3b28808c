"""SEP's text and image encoders against CLIP's own forward passes (with hooks as the oracle)."""

import pytest
import torch
from clip.model import CLIP, convert_weights

from prompting.sep import (
    SEPImageEncoder,
    SEPTextEncoder,
    TokenFusion,
    visual_representative_tokens,
)
from tests.prompting.hooks import hooks_removed_after
from tests.tolerances import (
    assert_close_in_norm,
    assert_far_in_norm,
    bf16_autocast_error,
    clip_size,
    fp16_error,
    fp32_gradient_rtol,
    fp32_rtol,
    image_encoder_size,
    text_encoder_size,
)
from tools.make_tiny_clip import build_tiny_clip

N_CTX = 4
N_PROMPTS = 3
EOS_ID = 49407  # the largest token id, which CLIP's tokenizer puts at [EOS]
# Comparisons across dtypes fuse only after block 0: the tiny CLIP's ln_pre has a unit affine,
# so every token entering block 0 has mean square ~1 and rounding alone reorders the top-k.
NO_TIES = {"selection_mode": "sample"}


def text_rtol(clip_model, encoder):
    """Two fp32 orderings of the text path: CLIP's blocks and the fusion modules between them."""
    blocks, width = text_encoder_size(clip_model)
    return fp32_rtol(blocks + len(encoder.fusion_modules), width)


def image_rtol(clip_model, encoder):
    """Two fp32 orderings of the image path: CLIP's blocks and the fusion modules between them."""
    blocks, width = image_encoder_size(clip_model)
    return fp32_rtol(blocks + len(encoder.visual_prompts.fusion_modules), width)


def blocks_of_paths(clip_model, text_encoder, image_encoder):
    """Blocks on the text and on the image path: CLIP's and the fusion modules between them."""
    text_blocks = text_encoder_size(clip_model)[0] + len(text_encoder.fusion_modules)
    image_fusions = len(image_encoder.visual_prompts.fusion_modules)
    return text_blocks, image_encoder_size(clip_model)[0] + image_fusions


def make_tokens(eos_positions, length=77, seed=0):
    """Token ids ``[n, length]``: [SOS], random ids, [EOS] at ``eos_positions``, zero padding."""
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.zeros(len(eos_positions), length, dtype=torch.long)
    for row, eos in enumerate(eos_positions):
        tokens[row, 0] = EOS_ID - 1
        tokens[row, 1:eos] = torch.randint(1, 40000, (eos - 1,), generator=generator)
        tokens[row, eos] = EOS_ID
    return tokens


def make_images(batch_size=3, resolution=32, seed=0):
    return torch.randn(
        batch_size, 3, resolution, resolution, generator=torch.Generator().manual_seed(seed)
    )


def prompt_embeddings(clip_model, tokens):
    """CLIP's token embeddings with random context vectors at positions 1..N_CTX, as CoOp builds."""
    with torch.no_grad():
        embeddings = clip_model.token_embedding(tokens)
    embeddings[:, 1 : 1 + N_CTX] = 0.02 * torch.randn(N_CTX, embeddings.shape[-1])
    return embeddings


def fuse_text_hook(fusion):
    """A block pre-hook doing the text fusion on CLIP's sequence-first input."""

    def hook(block, args):
        x = args[0]  # [L, n_cls, D]
        tokens = x.permute(1, 0, 2)
        fused = fusion(tokens[:, 1 : 1 + N_CTX], tokens[:, 1 + N_CTX : 1 + 2 * N_CTX])
        return (torch.cat([x[:1], fused.permute(1, 0, 2), x[1 + N_CTX :]]),)

    return hook


def fuse_visual_hook(fusion, mode):
    def hook(block, args):
        x = args[0]  # [1 + HW + m, B, D]
        tokens = x.permute(1, 0, 2)
        representative = visual_representative_tokens(tokens, N_PROMPTS, mode)
        fused = fusion(tokens[:, -N_PROMPTS:], representative)
        return (torch.cat([x[:-N_PROMPTS], fused.permute(1, 0, 2)]),)

    return hook


def clip_encode_text_with_hooks(clip_model, tokens, embeddings, fusion_modules=None):
    """CLIP's own encode_text, fed ``embeddings`` and fusing before the given blocks."""
    embedding_hook = clip_model.token_embedding.register_forward_hook(lambda *_: embeddings)
    with hooks_removed_after([embedding_hook]) as handles:
        for layer, fusion in (fusion_modules or {}).items():
            block = clip_model.transformer.resblocks[int(layer)]
            handles.append(block.register_forward_pre_hook(fuse_text_hook(fusion)))
        return clip_model.encode_text(tokens)


def clip_encode_image_with_hooks(clip_model, images, prompts, fusion_modules=None, mode="batch"):
    """CLIP's own encode_image with ``prompts`` appended before ln_pre and fusion before blocks."""

    def append_prompts(ln_pre, args):
        x = args[0]  # [B, 1 + HW, D]
        return (torch.cat([x, prompts.expand(x.shape[0], -1, -1)], dim=1),)

    visual = clip_model.visual
    with hooks_removed_after([visual.ln_pre.register_forward_pre_hook(append_prompts)]) as handles:
        for layer, fusion in (fusion_modules or {}).items():
            block = visual.transformer.resblocks[int(layer)]
            handles.append(block.register_forward_pre_hook(fuse_visual_hook(fusion, mode)))
        return clip_model.encode_image(images)


def test_text_encoder_without_fusion_equals_clip_encode_text(tiny_clip):
    tokens = make_tokens([10, 20, 76])
    encoder = SEPTextEncoder(tiny_clip, N_CTX)
    encoder.fusion_modules.clear()
    with torch.no_grad():
        embeddings = tiny_clip.token_embedding(tokens)
        # exact: the same modules on the same shapes, one process: the same kernels
        assert torch.equal(encoder(embeddings, tokens), tiny_clip.encode_text(tokens))


@pytest.mark.numerical
def test_text_encoder_fuses_context_before_each_fusion_layer():
    clip_model = build_tiny_clip(transformer_layers=3)
    tokens = make_tokens([12, 20, 30])
    encoder = SEPTextEncoder(clip_model, N_CTX, fusion_layers=[0, 2])
    embeddings = prompt_embeddings(clip_model, tokens)
    with torch.no_grad():
        out = encoder(embeddings, tokens)
        expected = clip_encode_text_with_hooks(
            clip_model, tokens, embeddings, encoder.fusion_modules
        )
        without_fusion = clip_encode_text_with_hooks(clip_model, tokens, embeddings)
    assert_close_in_norm(out, expected, text_rtol(clip_model, encoder))
    assert_far_in_norm(out, without_fusion, text_rtol(clip_model, encoder))


def test_text_encoder_keeps_sequence_length_and_pools_at_eos(tiny_clip):
    eos_positions = [12, 20, 30]  # all beyond the representative tokens (positions 5..8)
    tokens = make_tokens(eos_positions)
    encoder = SEPTextEncoder(tiny_clip, N_CTX, fusion_layers=[0, 1])
    block_lengths, final = [], {}
    handles = [
        block.register_forward_pre_hook(lambda _, args: block_lengths.append(args[0].shape[0]))
        for block in tiny_clip.transformer.resblocks
    ]
    handles.append(
        tiny_clip.ln_final.register_forward_hook(
            lambda _, args, output: final.setdefault("tokens", output)
        )
    )
    embeddings = prompt_embeddings(tiny_clip, tokens)
    with torch.no_grad():
        out = encoder(embeddings, tokens)
    for handle in handles:
        handle.remove()
    assert block_lengths == [77, 77]
    eos_tokens = final["tokens"][torch.arange(3), torch.tensor(eos_positions)]  # [3, Dt]
    pooled = eos_tokens @ tiny_clip.text_projection
    assert torch.equal(out, pooled)  # exact: the encoder's own last op on the same tensor


@pytest.mark.numerical
def test_text_tokens_after_eos_do_not_reach_the_features(tiny_clip):
    """The causal mask survives fusion: padding after [EOS] cannot change [EOS]'s feature."""
    eos_positions = [12, 20, 30]
    tokens = make_tokens(eos_positions)
    encoder = SEPTextEncoder(tiny_clip, N_CTX, fusion_layers=[0, 1])
    embeddings = prompt_embeddings(tiny_clip, tokens)
    after_eos, before_eos = embeddings.clone(), embeddings.clone()
    width = embeddings.shape[-1]
    for row, eos in enumerate(eos_positions):
        after_eos[row, eos + 1 :] += torch.randn(77 - eos - 1, width)
        before_eos[row, eos - 1] += torch.randn(width)
    with torch.no_grad():
        out = encoder(embeddings, tokens)
        # exact: masked positions enter as exp(-inf) = 0 weights; every other op is per token
        assert torch.equal(encoder(after_eos, tokens), out)
        assert_far_in_norm(encoder(before_eos, tokens), out, text_rtol(tiny_clip, encoder))


@pytest.mark.numerical
def test_image_encoder_without_fusion_equals_clip_with_prompts_appended(tiny_clip):
    encoder = SEPImageEncoder(tiny_clip, N_PROMPTS)
    encoder.visual_prompts.fusion_modules.clear()
    images = make_images()
    with torch.no_grad():
        out = encoder(images)
        expected = clip_encode_image_with_hooks(tiny_clip, images, encoder.visual_prompts.tokens)
        plain_clip = tiny_clip.encode_image(images)
    assert torch.equal(out, expected)  # exact: the same modules on the same shapes
    assert_far_in_norm(out, plain_clip, image_rtol(tiny_clip, encoder))  # the prompts take part


@pytest.mark.numerical
@pytest.mark.parametrize("mode", ["batch", "sample"])
def test_image_encoder_fuses_prompts_before_each_fusion_layer(mode):
    clip_model = build_tiny_clip(vision_layers=3)
    encoder = SEPImageEncoder(clip_model, N_PROMPTS, fusion_layers=[0, 2], selection_mode=mode)
    images = make_images()
    prompts = encoder.visual_prompts.tokens
    fusion_modules = encoder.visual_prompts.fusion_modules
    with torch.no_grad():
        out = encoder(images)
        expected = clip_encode_image_with_hooks(clip_model, images, prompts, fusion_modules, mode)
        without_fusion = clip_encode_image_with_hooks(clip_model, images, prompts)
    assert_close_in_norm(out, expected, image_rtol(clip_model, encoder))
    assert_far_in_norm(out, without_fusion, image_rtol(clip_model, encoder))


@pytest.mark.numerical
def test_image_features_depend_on_batchmates_with_reference_axis_not_per_input(tiny_clip):
    images = make_images(batch_size=4)
    changed = images.clone()
    changed[0] = make_images(batch_size=1, seed=5)[0]
    for axis, mode, coupled in [("reference", "batch", True), ("per_input", "sample", False)]:
        torch.manual_seed(0)
        encoder = SEPImageEncoder(
            tiny_clip, N_PROMPTS, selection_mode=mode, token_fusion_kwargs={"attention_axis": axis}
        )
        with torch.no_grad():
            others_before, others_after = encoder(images)[1:], encoder(changed)[1:]
        compare = assert_far_in_norm if coupled else assert_close_in_norm
        compare(others_after, others_before, image_rtol(tiny_clip, encoder), f"{axis} axis")


def test_gradients_reach_prompts_and_fusion_modules_and_never_clip(tiny_clip):
    assert all(p.requires_grad for p in tiny_clip.parameters())
    text_encoder = SEPTextEncoder(tiny_clip, N_CTX)
    image_encoder = SEPImageEncoder(tiny_clip, N_PROMPTS)
    tokens = make_tokens([12, 20])
    embeddings = prompt_embeddings(tiny_clip, tokens).requires_grad_(True)
    text, image = text_encoder(embeddings, tokens), image_encoder(make_images())
    loss = text.square().sum() + image.square().sum()
    loss.backward()
    assert all(p.grad is None for p in tiny_clip.parameters())
    assert embeddings.grad[:, 1 : 1 + N_CTX].abs().sum() > 0
    assert image_encoder.visual_prompts.tokens.grad.abs().sum() > 0
    for fusion in [
        *text_encoder.fusion_modules.values(),
        *image_encoder.visual_prompts.fusion_modules.values(),
    ]:
        for name in (
            "scale_1",
            "scale_2",
            "attn.in_proj_weight",
            "attn.out_proj.weight",
            "mlp.c_fc.weight",
            "mlp.c_proj.weight",
            "ln_1.weight",
            "ln_2.weight",
        ):
            assert fusion.get_parameter(name).grad.abs().sum() > 0, name


def test_learned_modules_hold_exactly_the_prompts_and_fusion_modules(tiny_clip):
    text_encoder = SEPTextEncoder(tiny_clip, N_CTX, fusion_layers=[0, 1])
    image_encoder = SEPImageEncoder(tiny_clip, N_PROMPTS, fusion_layers=[1])
    fusion_keys = set(TokenFusion(8).state_dict())
    assert set(text_encoder.fusion_modules.state_dict()) == {
        f"{layer}.{key}" for layer in (0, 1) for key in fusion_keys
    }
    assert set(image_encoder.visual_prompts.state_dict()) == {"tokens"} | {
        f"fusion_modules.1.{key}" for key in fusion_keys
    }
    vision_width = tiny_clip.visual.conv1.out_channels
    assert image_encoder.visual_prompts.tokens.shape == (N_PROMPTS, vision_width)
    clip_tensors = {p.data_ptr() for p in tiny_clip.parameters()}
    learned = [
        *text_encoder.fusion_modules.parameters(),
        *image_encoder.visual_prompts.parameters(),
    ]
    assert not clip_tensors & {p.data_ptr() for p in learned}
    assert all(p.requires_grad for p in learned)


def test_one_token_fusion_per_fusion_layer_with_encoder_widths(tiny_clip):
    text_encoder = SEPTextEncoder(tiny_clip, N_CTX)
    image_encoder = SEPImageEncoder(tiny_clip, N_PROMPTS, fusion_layers=[0, 1, 1])
    assert text_encoder.fusion_layers == (1,)  # default: every block but the first
    assert image_encoder.fusion_layers == (0, 1)
    assert text_encoder.fusion_modules["1"].width == tiny_clip.ln_final.weight.shape[0]
    vision_width = tiny_clip.visual.conv1.out_channels
    assert image_encoder.visual_prompts.fusion_modules["0"].width == vision_width


def test_fusion_layer_beyond_encoder_depth_raises(tiny_clip):
    with pytest.raises(ValueError, match=r"fusion_layers.*\[2\].*depth 2"):
        SEPTextEncoder(tiny_clip, N_CTX, fusion_layers=[1, 2])
    with pytest.raises(ValueError, match=r"image encoder has depth 2"):
        SEPImageEncoder(tiny_clip, N_PROMPTS, fusion_layers=[5])


def test_resnet_backbone_raises_a_clear_error():
    resnet_clip = CLIP(
        embed_dim=32,
        image_resolution=32,
        vision_layers=(1, 1, 1, 1),
        vision_width=8,
        vision_patch_size=None,
        context_length=77,
        vocab_size=1000,
        transformer_width=64,
        transformer_heads=1,
        transformer_layers=1,
    )
    with pytest.raises(ValueError, match="SEP needs a ViT CLIP backbone.*got ResNet"):
        SEPImageEncoder(resnet_clip, N_PROMPTS)


def test_invalid_sizes_and_modes_raise(tiny_clip):
    with pytest.raises(ValueError, match="context length 77"):
        SEPTextEncoder(tiny_clip, n_ctx=39)
    with pytest.raises(ValueError, match="batch"):
        SEPImageEncoder(tiny_clip, N_PROMPTS, selection_mode="image")
    with pytest.raises(ValueError, match="need 1..17"):
        SEPImageEncoder(tiny_clip, n_prompts=18)
    with pytest.raises(ValueError, match="expects 32x32 images"):
        SEPImageEncoder(tiny_clip, N_PROMPTS)(make_images(resolution=48))
    encoder = SEPTextEncoder(tiny_clip, N_CTX)
    tokens = make_tokens([12])
    with pytest.raises(ValueError, match="do not match"):
        encoder(prompt_embeddings(tiny_clip, tokens), tokens[:, :70])


def encoders_and_inputs(tiny_clip):
    """Two prompts, a batch of images, and SEP's encoders with fusion before several blocks."""
    tokens = make_tokens([12, 20])
    embeddings = prompt_embeddings(tiny_clip, tokens)
    images = make_images()  # drawn before the encoders' random initialisation, as the tests expect
    text_encoder = SEPTextEncoder(tiny_clip, N_CTX, fusion_layers=[0, 1])
    image_encoder = SEPImageEncoder(tiny_clip, N_PROMPTS, fusion_layers=[1], **NO_TIES)
    return tokens, embeddings, images, text_encoder, image_encoder


@pytest.mark.numerical
@pytest.mark.parametrize("convert_learned", [False, True], ids=["fp32-learned", "fp16-learned"])
def test_encoders_run_an_fp16_clip_close_to_fp32(tiny_clip, convert_learned):
    tokens, embeddings, images, text_encoder, image_encoder = encoders_and_inputs(tiny_clip)
    with torch.no_grad():
        expected_text, expected_image = text_encoder(embeddings, tokens), image_encoder(images)
        convert_weights(tiny_clip)  # what clip.build_model does: CLIP's matrices in fp16
        if convert_learned:
            convert_weights(text_encoder.fusion_modules)
            convert_weights(image_encoder.visual_prompts)
        text, image = text_encoder(embeddings, tokens), image_encoder(images)
    assert text.dtype == image.dtype == torch.float16
    # fp16's forward error through each encoder's blocks and fusions (tests/tolerances.py);
    # over 30 tiny-CLIP seeds it measured 1 to 4 fp16 roundoffs, the bound is 13 to 14
    text_blocks, image_blocks = blocks_of_paths(tiny_clip, text_encoder, image_encoder)
    assert_close_in_norm(text.float(), expected_text, fp16_error(text_blocks), "text")
    assert_close_in_norm(image.float(), expected_image, fp16_error(image_blocks), "image")


@pytest.mark.numerical
def test_encoders_run_under_bf16_autocast_with_gradients(tiny_clip):
    tokens, embeddings, images, text_encoder, image_encoder = encoders_and_inputs(tiny_clip)
    with torch.no_grad():
        expected_text, expected_image = text_encoder(embeddings, tokens), image_encoder(images)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        text, image = text_encoder(embeddings, tokens), image_encoder(images)
    text_blocks, image_blocks = blocks_of_paths(tiny_clip, text_encoder, image_encoder)
    assert_close_in_norm(text.float(), expected_text, bf16_autocast_error(text_blocks), "text")
    assert_close_in_norm(image.float(), expected_image, bf16_autocast_error(image_blocks), "image")
    (text.float().square().sum() + image.float().square().sum()).backward()
    tokens_grad = image_encoder.visual_prompts.tokens.grad
    assert torch.isfinite(tokens_grad).all() and tokens_grad.abs().sum() > 0
    text_grad = text_encoder.fusion_modules["0"].attn.in_proj_weight.grad
    assert torch.isfinite(text_grad).all() and text_grad.abs().sum() > 0


@pytest.mark.numerical
def test_gradient_checkpointing_gives_the_same_outputs_and_gradients(tiny_clip):
    tokens = make_tokens([12, 20])
    embeddings = prompt_embeddings(tiny_clip, tokens)
    images = make_images()
    results = []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        text_encoder = SEPTextEncoder(tiny_clip, N_CTX, gradient_checkpointing=checkpointing)
        image_encoder = SEPImageEncoder(tiny_clip, N_PROMPTS, gradient_checkpointing=checkpointing)
        leaf = embeddings.clone().requires_grad_(True)
        text, image = text_encoder(leaf, tokens), image_encoder(images)
        (text.square().sum() + image.square().sum()).backward()
        grads = [
            leaf.grad,
            *(p.grad for p in text_encoder.fusion_modules.parameters()),
            *(p.grad for p in image_encoder.visual_prompts.parameters()),
        ]
        results.append((text.detach(), image.detach(), grads))
    (text_a, image_a, grads_a), (text_b, image_b, grads_b) = results
    # exact: checkpointing reruns the same forward; only the backward's accumulation order moves
    assert torch.equal(text_b, text_a) and torch.equal(image_b, image_a)
    blocks, width = clip_size(tiny_clip)  # the loss sums both encoders: all blocks, both fusions
    blocks += len(text_encoder.fusion_modules) + len(image_encoder.visual_prompts.fusion_modules)
    rtol = fp32_gradient_rtol(blocks, width)
    for grad_a, grad_b in zip(grads_a, grads_b):
        assert_close_in_norm(grad_b, grad_a, rtol, "gradient")


def test_vit_l14_shaped_encoders_forward_and_backward():
    """ViT-L/14 widths (text 768, vision 1024, embed 768, patch 14) at reduced depth."""
    clip_model = build_tiny_clip(
        embed_dim=768,
        image_resolution=28,
        vision_layers=2,
        vision_width=1024,
        vision_patch_size=14,
        transformer_width=768,
        transformer_layers=2,
        vocab_size=1000,
    )
    clip_model.requires_grad_(False)
    text_encoder = SEPTextEncoder(clip_model, n_ctx=6, fusion_layers=[0, 1])
    image_encoder = SEPImageEncoder(clip_model, n_prompts=4, fusion_layers=[0, 1])
    assert text_encoder.fusion_modules["0"].attn.num_heads == 12
    assert image_encoder.visual_prompts.fusion_modules["0"].attn.num_heads == 16
    assert image_encoder.visual_prompts.tokens.shape == (4, 1024)
    n_cls = 2
    embeddings = 0.02 * torch.randn(n_cls, 77, 768)
    tokens = torch.zeros(n_cls, 77, dtype=torch.long)
    tokens[:, 15] = 999  # the [EOS] position is the argmax
    text = text_encoder(embeddings, tokens)
    image = image_encoder(torch.randn(2, 3, 28, 28))
    assert text.shape == (n_cls, 768) and image.shape == (2, 768)
    (text.square().sum() + image.square().sum()).backward()
    assert image_encoder.visual_prompts.tokens.grad.abs().sum() > 0
    assert text_encoder.fusion_modules["1"].mlp.c_fc.weight.grad.abs().sum() > 0
