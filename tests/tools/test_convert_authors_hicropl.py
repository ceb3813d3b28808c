"""Checkpoints of the authors' HiCroPL code convert into this repository's layout: every tensor
lands where it acts, the converted run evaluates through the trainer, and a checkpoint that
does not fit is refused by name.

The authors' checkpoint is built here from their key names (facts of their layout: their
``CrossModalPromptLearner`` and its ``nn.MultiheadAttention``/``LayerNorm`` modules), with
random values and the tiny CLIP's widths.
"""

import os
from types import SimpleNamespace

import pytest
import torch

from tests.tools.test_convert_authors_checkpoint import convert, random, without
from tests.trainers.helpers import make_trainer

TEXT_WIDTH, VISION_WIDTH = 64, 128  # the tiny CLIP's
N_CTX, DEPTH, CROSS_LAYER = 16, 2, 1  # the published token count; the tiny CLIP's 2 blocks
LEARNER = "prompt_learner"


def attention_and_norms(prefix, width, seed):
    shapes = {
        "attn.in_proj_weight": (3 * width, width),
        "attn.in_proj_bias": (3 * width,),
        "attn.out_proj.weight": (width, width),
        "attn.out_proj.bias": (width,),
        "ln_1.weight": (width,),
        "ln_1.bias": (width,),
        "ln_2.weight": (width,),
        "ln_2.bias": (width,),
    }
    return {f"{prefix}.{k}": random(*s, seed=seed + i) for i, (k, s) in enumerate(shapes.items())}


def mapper(prefix, width, source_width, seed):
    shapes = {
        "linear_q.weight": (width, width),
        "linear_q.bias": (width,),
        "linear_k.weight": (width, source_width),
        "linear_k.bias": (width,),
        "linear_v.weight": (width, source_width),
        "linear_v.bias": (width,),
        "ffn.c_fc.weight": (4 * width, width),
        "ffn.c_fc.bias": (4 * width,),
        "ffn.c_proj.weight": (width, 4 * width),
        "ffn.c_proj.bias": (width,),
    }
    state = {f"{prefix}.{k}": random(*s, seed=seed + i) for i, (k, s) in enumerate(shapes.items())}
    return {**state, **attention_and_norms(prefix, width, seed + 50)}


def authors_hicropl_state(n_ctx=N_CTX, depth=DEPTH, cross_layer=CROSS_LAYER):
    """What the authors' trainer saves (``VLPromptLearner``): the whole model; ``ctx`` is also
    their ``cross_prompts_text.0``."""
    ctx = random(n_ctx, TEXT_WIDTH, seed=0)
    state = {f"{LEARNER}.ctx": ctx, f"{LEARNER}.cross_prompts_text.0": ctx.clone()}
    for i in range(1, depth):
        state[f"{LEARNER}.cross_prompts_text.{i}"] = random(n_ctx, TEXT_WIDTH, seed=i)
    for i in range(depth):
        state[f"{LEARNER}.cross_prompts_visual.{i}"] = random(n_ctx, VISION_WIDTH, seed=20 + i)
    state.update(mapper(f"{LEARNER}.text2visual_net", VISION_WIDTH, TEXT_WIDTH, seed=100))
    state.update(mapper(f"{LEARNER}.visual2text_net", TEXT_WIDTH, VISION_WIDTH, seed=200))
    for i in range(cross_layer):
        state[f"{LEARNER}.text_proxy_token.{i}"] = random(1, TEXT_WIDTH, seed=300 + i)
        state.update(
            attention_and_norms(f"{LEARNER}.attn_pooling_text_nets.{i}", TEXT_WIDTH, 400 + 10 * i)
        )
    for i in range(depth - cross_layer):
        state[f"{LEARNER}.visual_proxy_token.{i}"] = random(1, VISION_WIDTH, seed=500 + i)
        state.update(
            attention_and_norms(
                f"{LEARNER}.attn_pooling_visual_nets.{i}", VISION_WIDTH, 600 + 10 * i
            )
        )
    frozen = {  # a few of the frozen tensors their checkpoints also hold
        f"{LEARNER}.ZS_image_encoder.conv1.weight": torch.zeros(VISION_WIDTH, 3, 8, 8),
        f"{LEARNER}.token_prefix": torch.zeros(4, 1, TEXT_WIDTH),
        "image_encoder.conv1.weight": torch.zeros(VISION_WIDTH, 3, 8, 8),
        "text_encoder.ln_final.weight": torch.ones(TEXT_WIDTH),
        "logit_scale": torch.tensor(4.6),
    }
    return {**state, **frozen}


# our name -> theirs, written out for the blocks the tiny CLIP has
RENAMED = {
    "text.prompt_learner.ctx": "ctx",
    "text.deep.0": "cross_prompts_text.1",
    "visual.0": "cross_prompts_visual.0",
    "visual.1": "cross_prompts_visual.1",
    "text_proxies.0.token": "text_proxy_token.0",
    "text_proxies.0.attn.in_proj_weight": "attn_pooling_text_nets.0.attn.in_proj_weight",
    "text_proxies.0.ln_2.bias": "attn_pooling_text_nets.0.ln_2.bias",
    "visual_proxies.0.token": "visual_proxy_token.0",
    "visual_proxies.0.attn.out_proj.weight": "attn_pooling_visual_nets.0.attn.out_proj.weight",
    "text_to_visual.linear_k.weight": "text2visual_net.linear_k.weight",
    "text_to_visual.mlp.c_fc.weight": "text2visual_net.ffn.c_fc.weight",
    "visual_to_text.mlp.c_proj.bias": "visual2text_net.ffn.c_proj.bias",
    "visual_to_text.attn.in_proj_bias": "visual2text_net.attn.in_proj_bias",
}


def test_converted_run_holds_the_authors_tensors_and_evaluates(tmp_path, toy_data_root, capsys):
    state = authors_hicropl_state()
    status, out = convert(tmp_path, "HiCroPL", state)
    assert status == 0
    printed = capsys.readouterr().out
    for option in ("N_CTX 16", "PROMPT_DEPTH 2", "CROSS_LAYER 1"):
        assert f"TRAINER.HICROPL.{option}" in printed
    assert 'CTX_INIT ""' in printed  # their code ignores the phrase above 4 tokens
    toy = SimpleNamespace(
        root=toy_data_root, tiny_clip_path=os.path.join(toy_data_root, "tiny_clip.pt")
    )
    trainer = make_trainer("HiCroPL", toy, tmp_path / "eval")  # depth 2, k 1, 16 tokens
    trainer.load_model(str(out), epoch=20)
    learned = trainer.model.learnable.state_dict()
    n_learned = sum(
        not key.startswith(("prompt_learner.ZS", "image_", "text_", "logit")) for key in state
    )
    assert len(learned) == n_learned - 2  # less ctx's second key and the token prefix
    for ours, theirs in RENAMED.items():
        assert torch.equal(learned[ours], state[f"{LEARNER}.{theirs}"]), ours
    assert 0.0 <= trainer.test() <= 100.0
    assert os.path.isfile(tmp_path / "eval" / "result.json")


REFUSED = [
    (
        "a context stored twice with two values",
        {f"{LEARNER}.cross_prompts_text.0": torch.zeros(N_CTX, TEXT_WIDTH)},
        (),
        "cross_prompts_text.0",
    ),
    ("a visual set missing", {}, (f"{LEARNER}.cross_prompts_visual.1",), "visual"),
    (
        "visual sets of another token count",
        {
            f"{LEARNER}.cross_prompts_visual.{i}": torch.zeros(N_CTX - 1, VISION_WIDTH)
            for i in range(DEPTH)
        },
        (),
        "visual tokens",
    ),
    ("a proxy missing", {}, (f"{LEARNER}.visual_proxy_token.0",), "proxies"),
    (
        "a key of another method",
        {f"{LEARNER}.proj.weight": torch.zeros(VISION_WIDTH, TEXT_WIDTH)},
        (),
        "proj.weight",
    ),
]


@pytest.mark.parametrize(
    "changed, removed, named", [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_checkpoints_that_do_not_fit_are_refused_naming_the_problem(
    changed, removed, named, tmp_path, capsys
):
    state = {**authors_hicropl_state(), **changed}
    for key in removed:
        state = without(state, key)
    status, out = convert(tmp_path, "HiCroPL", state)
    assert status != 0
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("Error:") and named in error[0]
    assert not os.path.exists(out)
