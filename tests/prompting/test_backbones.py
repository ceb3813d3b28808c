"""The same OpenAI-architecture weights run through OpenAI's ``clip`` and through OpenCLIP.

OpenCLIP's ViT CLIP keeps OpenAI's state dict layout, so a tiny OpenAI CLIP's weights load into
an OpenCLIP model of the same config with QuickGELU. Every method then has to give the same
logits, loss terms and gradients of what it learns on both, to fp32 rounding.

Tolerance: the two implementations run the same products in different memory layouts
(sequence- vs batch-first blocks, PyTorch's fused attention path for the latter), so each
inner product over ``w`` terms may round differently by about ``sqrt(w)`` fp32 epsilons, and
the differences add up over the ``L`` blocks they pass; the bound is
``8 * sqrt(w_max) * L * eps`` (about 4e-5 for the tiny CLIP's widths 128/64 and 2 + 2 blocks),
compared as a norm-relative error (loss terms relative to the total loss).
"""

import math

import pytest
import torch

import trainers
from benchmarks.method_models import build_method, imagenet_classnames, method_cfg
from prompting.backbones import OpenAIBackbone, UnsupportedBackbone, backbone_of, project_text
from prompting.backbones.openclip import OpenCLIPBackbone
from prompting.image_encoder import PromptedImageEncoder
from prompting.prompted_clip import total_loss
from prompting.text_encoder import TextEncoder, encode_prompts_normalized
from tools.make_tiny_clip import TINY_VIT, build_tiny_clip
from tools.make_tiny_openclip import build_tiny_openclip

N_BLOCKS = 2 * TINY_VIT["vision_layers"]
WIDEST = max(TINY_VIT["vision_width"], TINY_VIT["transformer_width"])
RTOL = 8 * math.sqrt(WIDEST) * N_BLOCKS * torch.finfo(torch.float32).eps
N_CLASSES = 3
PROMPTS = ["a photo of a cat.", "a photo of a tabby dog on grass.", "a red car."]


def relative_error(actual, expected):
    return float((actual - expected).norm() / expected.norm())


def assert_close(actual, expected, what):
    error = relative_error(actual.float(), expected.float())
    assert error <= RTOL, f"{what}: relative error {error:.2e} > {RTOL:.2e}"


@pytest.fixture(scope="module")
def both_clips():
    """``(OpenAI CLIP, OpenCLIP model)``, frozen, holding the same random weights."""
    openai = build_tiny_clip(seed=0).requires_grad_(False)
    openclip = build_tiny_openclip(seed=1, quick_gelu=True)
    openclip.load_state_dict(openai.state_dict())
    return openai, openclip.requires_grad_(False)


def images(batch=2):
    generator = torch.Generator().manual_seed(3)
    resolution = TINY_VIT["image_resolution"]
    return torch.randn(batch, 3, resolution, resolution, generator=generator)


def test_backbone_of_names_each_implementation(both_clips):
    openai, openclip = both_clips
    assert isinstance(backbone_of(openai), OpenAIBackbone)
    assert isinstance(backbone_of(openclip), OpenCLIPBackbone)
    assert backbone_of(openclip).image_resolution == TINY_VIT["image_resolution"]


def test_both_tokenizers_give_clips_token_ids(both_clips):
    openai, openclip = both_clips
    assert torch.equal(
        backbone_of(openai).tokenize(PROMPTS), backbone_of(openclip).tokenize(PROMPTS)
    )


def test_openclip_tokenizer_refuses_a_prompt_longer_than_the_context(both_clips):
    with pytest.raises(RuntimeError, match="too long for context length 77"):
        backbone_of(both_clips[1]).tokenize(["word " * 80])


def test_zero_shot_logits_are_the_same(both_clips):
    logits = []
    for clip_model in both_clips:
        with torch.no_grad():
            text = encode_prompts_normalized(clip_model, PROMPTS)
            image = clip_model.encode_image(images())
            image = image / image.norm(dim=-1, keepdim=True)
            logits.append(clip_model.logit_scale.exp() * image @ text.t())
    assert_close(logits[1], logits[0], "zero-shot logits")


def test_encoders_without_prompts_compute_openclips_own_features(both_clips):
    """The adapter runs OpenCLIP's blocks exactly as OpenCLIP's forward does (GELU model)."""
    openclip = build_tiny_openclip(seed=2, quick_gelu=False).requires_grad_(False)
    tokens = backbone_of(openclip).tokenize(PROMPTS)
    with torch.no_grad():
        text = TextEncoder(openclip)(openclip.token_embedding(tokens), tokens)
        image = PromptedImageEncoder(openclip)(images())
        assert_close(text, openclip.encode_text(tokens), "text features")
        assert_close(image, openclip.encode_image(images()), "image features")


def test_a_linear_text_projection_is_applied_with_its_bias():
    projection = torch.nn.Linear(4, 3)
    features = torch.randn(2, 4)
    expected = features @ projection.weight.t() + projection.bias
    assert torch.allclose(project_text(features, projection), expected)
    assert torch.equal(
        project_text(features, projection.weight.t()), features @ projection.weight.t()
    )


def run_method(method, clip_model, **overrides):
    """Logits, loss terms and the gradients of the learned tensors of one training step."""
    cfg = method_cfg(method, "tiny", "fp32", overrides=sum(overrides.items(), ()))
    torch.manual_seed(0)  # the learned tensors' initialisation
    built = build_method(method, cfg, imagenet_classnames(N_CLASSES), clip_model, "cpu")
    model = built.model
    if model.learnable is None:
        with torch.no_grad():
            return model(images()), {}, {}
    model.learnable.train()
    torch.manual_seed(1)  # any sampling in the loss
    logits, terms = model.training_loss(images(), torch.tensor([0, 2]))
    total_loss(terms).backward()
    gradients = {name: parameter.grad for name, parameter in model.learnable.named_parameters()}
    return logits.detach(), {name: term.detach() for name, term in terms.items()}, gradients


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(trainers.method_table()))
def test_every_method_gives_the_same_logits_losses_and_gradients(method, both_clips):
    openai, openclip = both_clips
    logits, terms, gradients = run_method(method, openai)
    logits_oc, terms_oc, gradients_oc = run_method(method, openclip)
    assert_close(logits_oc, logits, f"{method} logits")
    assert terms_oc.keys() == terms.keys()
    total = float(sum(terms.values())) if terms else 0.0
    for name in terms:  # relative to the total: a term can start at 0 (KgCoOp's)
        difference = abs(float(terms_oc[name] - terms[name]))
        assert difference <= RTOL * total, f"{method} loss {name}: {difference:.2e} apart"
    assert gradients_oc.keys() == gradients.keys()
    for name, gradient in gradients.items():
        if gradient is None:
            assert gradients_oc[name] is None, f"{method} {name}"
            continue
        assert gradient.norm() > 0, f"{method} {name}: no gradient to compare"
        assert_close(gradients_oc[name], gradient, f"{method} gradient of {name}")


def test_sep_with_checkpointed_text_blocks_matches_without(both_clips):
    """The checkpointed block call (``functools.partial`` of the adapter) recomputes the same."""
    openclip = both_clips[1]
    plain = run_method("SEP", openclip)
    checkpointed = run_method("SEP", openclip, **{"TRAINER.SEP.CHECKPOINT_TEXT_BLOCKS": True})
    for name, gradient in plain[2].items():
        assert_close(checkpointed[2][name], gradient, f"gradient of {name}")


def test_checkpointed_openclip_image_blocks_give_the_same_prompt_gradients(both_clips):
    gradients = []
    for checkpointed in (False, True):
        encoder = PromptedImageEncoder(both_clips[1], gradient_checkpointing=checkpointed)
        prompts = torch.zeros(2, TINY_VIT["vision_width"], requires_grad=True)
        deep = [torch.ones(2, TINY_VIT["vision_width"], requires_grad=True)]
        encoder(images(), prompts, deep).square().sum().backward()
        gradients.append(torch.cat([prompts.grad, deep[0].grad]))
    assert gradients[0].norm() > 0
    assert_close(gradients[1], gradients[0], "prompt gradients")


def test_an_openclip_model_with_attention_pooling_is_refused():
    openclip = build_tiny_openclip(seed=0)
    openclip.visual.attn_pool = torch.nn.Identity()
    with pytest.raises(UnsupportedBackbone, match="attention pooling.*OpenCLIP models whose"):
        OpenCLIPBackbone(openclip)


def test_an_openclip_text_tower_pooled_otherwise_is_refused():
    openclip = build_tiny_openclip(seed=0)
    openclip.text_pool_type = "last"
    with pytest.raises(UnsupportedBackbone, match='pooled by "last"'):
        OpenCLIPBackbone(openclip)
