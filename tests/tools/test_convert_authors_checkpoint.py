"""Checkpoints of the authors' IVLP, MaPLe and PromptSRC code convert into this repository's
layout: the converted model gives the logits of the plain statements fed the authors' tensors,
PromptSRC's converted run evaluates, and a checkpoint that does not fit is refused by name.

The authors' checkpoints are built here from their key names (facts of their layout: their
modified CLIP's ``VPT``/``VPT_shallow`` tensors, MaPLe's prompt learner), with random values.
"""

import os
from types import SimpleNamespace

import pytest
import torch

from prompting.deep_prompt_model import DeepPromptCLIP, DeepTextPrompts, IndependentPrompts
from run.checkpoints import load_learned_state
from tests.tolerances import assert_close_in_norm, clip_size, fp32_rtol
from tests.trainers import independent_ivlp, independent_maple
from tests.trainers.deep_prompt_helpers import CLASSNAMES, LABELS, deeper_tiny_clip, images
from tests.trainers.helpers import make_trainer
from tools.convert_authors_checkpoint import main
from trainers.maple import CoupledPrompts

TEXT_WIDTH, VISION_WIDTH = 64, 128  # the tiny CLIP's
TEXT_BLOCK = "text_encoder.transformer.resblocks.{}.VPT_shallow"
VISION_BLOCK = "image_encoder.transformer.resblocks.{}.VPT_shallow"


def random(*shape, seed):
    return 0.1 * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def frozen_entries():
    """A few of the frozen tensors the authors' checkpoints also hold (their whole model)."""
    return {
        "prompt_learner.token_prefix": torch.zeros(len(CLASSNAMES), 1, TEXT_WIDTH),
        "prompt_learner.token_suffix": torch.zeros(len(CLASSNAMES), 72, TEXT_WIDTH),
        "image_encoder.conv1.weight": torch.zeros(VISION_WIDTH, 3, 8, 8),
        "text_encoder.ln_final.weight": torch.ones(TEXT_WIDTH),
        "logit_scale": torch.tensor(4.6),
    }


def authors_ivlp_state(n_ctx=4, n_ctx_vision=3, text_depth=2, vision_depth=3):
    """What the authors' IVLP (and PromptSRC) trainer saves, in half precision as their fp16
    runs keep the context: the context, one text set per block 1..depth-1, the visual prompts at
    the input (``image_encoder.VPT``) and one per vision block 1..depth-1."""
    state = {"prompt_learner.ctx": random(n_ctx, TEXT_WIDTH, seed=0).half(), **frozen_entries()}
    for block in range(1, text_depth):
        state[TEXT_BLOCK.format(block)] = random(n_ctx, TEXT_WIDTH, seed=block)
    if vision_depth:
        state["image_encoder.VPT"] = random(n_ctx_vision, VISION_WIDTH, seed=10)
    for block in range(1, vision_depth):
        state[VISION_BLOCK.format(block)] = random(n_ctx_vision, VISION_WIDTH, seed=10 + block)
    return state


def authors_maple_state(n_ctx=2, depth=3):
    """What the authors' MaPLe trainer saves: context, ``proj`` (the input's coupling layer), one
    text set and one coupling layer per deeper block (their lists, indexed from 0)."""
    state = {
        "prompt_learner.ctx": random(n_ctx, TEXT_WIDTH, seed=0),
        "prompt_learner.proj.weight": random(VISION_WIDTH, TEXT_WIDTH, seed=1),
        "prompt_learner.proj.bias": random(VISION_WIDTH, seed=2),
        **frozen_entries(),
    }
    for index in range(depth - 1):
        state[f"prompt_learner.compound_prompts_text.{index}"] = random(
            n_ctx, TEXT_WIDTH, seed=10 + index
        )
        projection = f"prompt_learner.compound_prompt_projections.{index}"
        state[f"{projection}.weight"] = random(VISION_WIDTH, TEXT_WIDTH, seed=20 + index)
        state[f"{projection}.bias"] = random(VISION_WIDTH, seed=30 + index)
    return state


def save_authors_checkpoint(tmp_path, state, folder="VLPromptLearner", epoch=20):
    """As Dassl's save_model writes it."""
    path = tmp_path / "authors" / folder / f"model.pth.tar-{epoch}"
    path.parent.mkdir(parents=True)
    checkpoint = {"state_dict": state, "epoch": epoch, "optimizer": None, "scheduler": None}
    torch.save({**checkpoint, "val_result": None}, path)
    return str(path)


def convert(tmp_path, trainer, state, folder="VLPromptLearner"):
    source = save_authors_checkpoint(tmp_path, state, folder)
    out = tmp_path / "converted"
    return main(["--trainer", trainer, "--src", source, "--out", str(out)]), out


@pytest.mark.numerical
def test_ivlp_checkpoint_gives_the_logits_of_the_authors_prompts(tmp_path, capsys):
    state = authors_ivlp_state(n_ctx=4, n_ctx_vision=3, text_depth=2, vision_depth=3)
    status, out = convert(tmp_path, "IVLP", state)
    assert status == 0
    printed = capsys.readouterr().out
    for option in (
        "N_CTX_TEXT 4",
        "PROMPT_DEPTH_TEXT 2",
        "N_CTX_VISION 3",
        "PROMPT_DEPTH_VISION 3",
    ):
        assert f"TRAINER.IVLP.{option}" in printed
    assert "--load-epoch 20" in printed

    clip_model = deeper_tiny_clip()
    text = DeepTextPrompts(CLASSNAMES, clip_model, 4, 2, "a photo of a")
    model = DeepPromptCLIP(clip_model, IndependentPrompts(text, clip_model, 3, 3), "IVLP")
    path = os.path.join(out, "prompt_learner", "model.pth.tar-20")
    assert load_learned_state(model.learnable, path) == 20
    with torch.no_grad():
        logits = model(images())
    expected, _ = independent_ivlp.ivlp_logits_and_loss(
        clip_model,
        images(),
        LABELS,
        CLASSNAMES,
        "a photo of a",
        [state["prompt_learner.ctx"].float(), state[TEXT_BLOCK.format(1)]],
        [state["image_encoder.VPT"], state[VISION_BLOCK.format(1)], state[VISION_BLOCK.format(2)]],
    )
    assert_close_in_norm(logits, expected, fp32_rtol(*clip_size(clip_model)))


@pytest.mark.numerical
def test_maple_checkpoint_gives_the_logits_of_the_authors_prompts(tmp_path, capsys):
    state = authors_maple_state(n_ctx=2, depth=3)
    status, out = convert(tmp_path, "MaPLe", state, folder="MultiModalPromptLearner")
    assert status == 0
    assert "TRAINER.MAPLE.N_CTX 2 TRAINER.MAPLE.PROMPT_DEPTH 3" in capsys.readouterr().out

    clip_model = deeper_tiny_clip()
    text = DeepTextPrompts(CLASSNAMES, clip_model, 2, 3, "a photo of a")
    model = DeepPromptCLIP(clip_model, CoupledPrompts(text, clip_model), "MaPLe")
    load_learned_state(model.learnable, os.path.join(out, "prompt_learner", "model.pth.tar-20"))
    with torch.no_grad():
        logits = model(images())
    layers = ["prompt_learner.proj"] + [
        f"prompt_learner.compound_prompt_projections.{i}" for i in range(2)
    ]
    expected, _ = independent_maple.maple_logits_and_loss(
        clip_model,
        images(),
        LABELS,
        CLASSNAMES,
        "a photo of a",
        [state["prompt_learner.ctx"]]
        + [state[f"prompt_learner.compound_prompts_text.{i}"] for i in range(2)],
        [state[f"{layer}.weight"] for layer in layers],
        [state[f"{layer}.bias"] for layer in layers],
    )
    assert_close_in_norm(logits, expected, fp32_rtol(*clip_size(clip_model)))


def test_language_only_ivlp_checkpoint_converts_without_visual_prompts(tmp_path, capsys):
    status, out = convert(tmp_path, "IVLP", authors_ivlp_state(vision_depth=0))
    assert status == 0
    assert "TRAINER.IVLP.PROMPT_DEPTH_VISION 0" in capsys.readouterr().out
    converted = torch.load(out / "prompt_learner" / "model.pth.tar-20", weights_only=True)
    assert set(converted["state_dict"]) == {"text.prompt_learner.ctx", "text.deep.0"}


def test_promptsrc_checkpoint_evaluates_through_the_trainer(tmp_path, toy_data_root):
    state = authors_ivlp_state(n_ctx=4, n_ctx_vision=4, text_depth=2, vision_depth=2)
    state["prompt_learner.ZS_image_encoder.conv1.weight"] = torch.zeros(VISION_WIDTH, 3, 8, 8)
    status, out = convert(tmp_path, "PromptSRC", state)
    assert status == 0
    toy = SimpleNamespace(
        root=toy_data_root, tiny_clip_path=os.path.join(toy_data_root, "tiny_clip.pt")
    )
    trainer = make_trainer("PromptSRC", toy, tmp_path / "eval")  # depth 2, 4 + 4 tokens
    trainer.load_model(str(out), epoch=20)
    expected = {
        "text.prompt_learner.ctx": state["prompt_learner.ctx"].float(),
        "text.deep.0": state[TEXT_BLOCK.format(1)],
        "visual.0": state["image_encoder.VPT"],
        "visual.1": state[VISION_BLOCK.format(1)],
    }
    learned = trainer.model.learnable.state_dict()
    assert set(learned) == set(expected)
    sums = trainer.prompt_average.sums()
    for name, value in expected.items():
        assert torch.equal(learned[name], value), name
        assert torch.equal(sums[name], value), name  # a finished run's sum is its prompts
    assert 0.0 <= trainer.test() <= 100.0
    assert os.path.isfile(tmp_path / "eval" / "result.json")


def without(state, key):
    return {name: value for name, value in state.items() if name != key}


def with_entry(state, key, value):
    return {**state, key: value}


REFUSED = [
    (
        "a MaPLe checkpoint converted as IVLP",
        "IVLP",
        authors_maple_state(),
        "prompt_learner.proj.weight",
    ),
    (
        "an IVLP checkpoint converted as MaPLe",
        "MaPLe",
        authors_ivlp_state(),
        TEXT_BLOCK.format(1),  # the first key that MaPLe's checkpoints never hold
    ),
    (
        "no context",
        "IVLP",
        without(authors_ivlp_state(), "prompt_learner.ctx"),
        "prompt_learner.ctx",
    ),
    (
        "a gap in the text blocks",
        "PromptSRC",
        without(authors_ivlp_state(text_depth=3), TEXT_BLOCK.format(1)),
        TEXT_BLOCK.format(1),
    ),
    (
        "deeper visual prompts without the input's",
        "IVLP",
        without(authors_ivlp_state(), "image_encoder.VPT"),
        "image_encoder.VPT",
    ),
    (
        "a text set of another width",
        "IVLP",
        with_entry(authors_ivlp_state(), TEXT_BLOCK.format(1), torch.zeros(4, TEXT_WIDTH + 1)),
        TEXT_BLOCK.format(1),
    ),
    (
        "a visual set of another token count",
        "IVLP",
        with_entry(authors_ivlp_state(), VISION_BLOCK.format(2), torch.zeros(2, VISION_WIDTH)),
        VISION_BLOCK.format(2),
    ),
    (
        "a coupling layer of another text width",
        "MaPLe",
        with_entry(
            authors_maple_state(), "prompt_learner.proj.weight", torch.zeros(VISION_WIDTH, 8)
        ),
        "prompt_learner.proj.weight",
    ),
    (
        "a text set without its coupling layer",
        "MaPLe",
        without(authors_maple_state(), "prompt_learner.compound_prompt_projections.1.bias"),
        "prompt_learner.compound_prompt_projections.1.bias",
    ),
    (
        "a class-specific context",
        "IVLP",
        with_entry(authors_ivlp_state(), "prompt_learner.ctx", torch.zeros(3, 4, TEXT_WIDTH)),
        "prompt_learner.ctx",
    ),
]


@pytest.mark.parametrize(
    "trainer, state, key", [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_a_checkpoint_that_does_not_fit_is_refused_naming_the_key(
    tmp_path, capsys, trainer, state, key
):
    status, out = convert(tmp_path, trainer, state)
    assert status == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("Error: ")
    assert f'"{key}"' in errors[0]
    assert not os.path.exists(out)


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, capsys):
    source = tmp_path / "model.pth.tar-5"
    source.write_text("not a checkpoint")
    status = main(["--trainer", "MaPLe", "--src", str(source), "--out", str(tmp_path / "out")])
    assert status == 2
    assert capsys.readouterr().err.startswith(f'Error: "{source}" cannot be read')


def test_converting_into_a_run_that_has_the_checkpoint_refuses_and_keeps_it(tmp_path, capsys):
    out = tmp_path / "converted" / "prompt_learner"
    out.mkdir(parents=True)
    (out / "model.pth.tar-20").write_bytes(b"a user's checkpoint")
    status, _ = convert(tmp_path, "PromptSRC", authors_ivlp_state())
    assert status == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("Error: ") and "already exists" in errors[0]
    assert (out / "model.pth.tar-20").read_bytes() == b"a user's checkpoint"
    assert not (tmp_path / "converted" / "prompt_average").exists()  # nothing half written


def authors_prompt_learner_state(trainer, n_ctx=4, width=TEXT_WIDTH, embed_dim=32):
    """What the authors' ProGrad and TCP trainers save: their prompt learner, the class-token
    buffers included (TCP's also holds the meta-net)."""
    state = {
        "ctx": random(n_ctx, width, seed=0),
        "token_prefix": torch.zeros(3, 1, width),
        "token_suffix": torch.zeros(3, 77 - 1 - n_ctx, width),
    }
    if trainer == "TCP":
        state["meta_net.linear1.weight"] = random(embed_dim // 4, embed_dim, seed=1)
        state["meta_net.linear1.bias"] = random(embed_dim // 4, seed=2)
        state["meta_net.linear2.weight"] = random(n_ctx * width, embed_dim // 4, seed=3)
        state["meta_net.linear2.bias"] = random(n_ctx * width, seed=4)
    return state


@pytest.mark.parametrize("trainer, n_ctx", [("ProGrad", 16), ("TCP", 4)])
def test_prograd_and_tcp_checkpoints_evaluate_with_the_authors_tensors(
    trainer, n_ctx, tmp_path, toy_data_root, capsys
):
    state = authors_prompt_learner_state(trainer, n_ctx)
    status, out = convert(tmp_path, trainer, state, folder="prompt_learner")
    assert status == 0
    assert f"TRAINER.{trainer.upper()}.N_CTX {n_ctx}" in capsys.readouterr().out
    toy = SimpleNamespace(
        root=toy_data_root, tiny_clip_path=os.path.join(toy_data_root, "tiny_clip.pt")
    )
    evaluation = make_trainer(trainer, toy, tmp_path / "eval")
    evaluation.load_model(str(out), epoch=20)
    learned = evaluation.model.learnable.state_dict()
    expected = {name: value for name, value in state.items() if not name.startswith("token_")}
    assert set(learned) == set(expected)
    for name, value in expected.items():
        assert torch.equal(learned[name], value), name
    assert 0.0 <= evaluation.test() <= 100.0


def test_tcp_meta_net_of_another_width_is_refused(tmp_path, capsys):
    state = authors_prompt_learner_state("TCP")
    state["meta_net.linear2.weight"] = random(3 * TEXT_WIDTH, 8, seed=3)
    status, _ = convert(tmp_path, "TCP", state, folder="prompt_learner")
    assert status != 0
    assert "meta_net.linear2.weight" in capsys.readouterr().err
