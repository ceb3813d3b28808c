"""Checkpoints of the authors' SEP code load into this repository's SEP model."""

import pytest
import torch

from run.checkpoints import load_learned_state
from tests.sep_trainer.test_sep_model import CLASSNAMES, sep_cfg
from tools.convert_reference_sep_checkpoint import convert_state_dict, main
from trainers.sep import sep_model

REFERENCE_TFM_NAMES = {
    "attn.in_proj_weight": "promt_attention_visual.in_proj_weight",
    "attn.in_proj_bias": "promt_attention_visual.in_proj_bias",
    "attn.out_proj.weight": "promt_attention_visual.out_proj.weight",
    "attn.out_proj.bias": "promt_attention_visual.out_proj.bias",
    "ln_1.weight": "ln_pa_1_visual.weight",
    "ln_1.bias": "ln_pa_1_visual.bias",
    "ln_2.weight": "ln_pa_2_visual.weight",
    "ln_2.bias": "ln_pa_2_visual.bias",
    "mlp.c_fc.weight": "mlp_pa_visual.c_fc1.weight",
    "mlp.c_proj.weight": "mlp_pa_visual.c_proj.weight",
    "scale_1": "scale1",
    "scale_2": "scale2",
}


def reference_state_of(model, depth):
    """What the authors' PromptLearner state_dict holds for the same learned tensors (fp16 TFMs,
    one TFM per block of which the last is unused, unused template modules, token buffers)."""
    learnable = model.learnable
    state = {
        "ctx": learnable.prompt_learner.ctx.detach().half(),
        "ctx_visual": learnable.visual_prompts.tokens.detach().half(),
        "VPT_fc.weight": learnable.prototype.weight.detach().half(),
        "token_prefix": torch.zeros(len(CLASSNAMES), 1, 64),
        "meta_net_.scale1": torch.ones(1),
    }
    for reference_list, tfms in [
        ("prompt_projections", learnable.text_fusion),
        ("visual_prompts", learnable.visual_prompts.fusion_modules),
    ]:
        layers = sorted(int(key) for key in tfms.keys())
        for index in range(depth):
            tfm = tfms[str(layers[index])] if index < len(layers) else None
            for ours, theirs in REFERENCE_TFM_NAMES.items():
                value = tfm.state_dict()[ours] if tfm is not None else torch.randn(1)
                state[f"{reference_list}.{index}.{theirs}"] = value.detach().half()
            state[f"{reference_list}.{index}.ln_pa_1_token.weight"] = torch.ones(1)
    return state


def test_converted_reference_checkpoint_reproduces_the_learned_tensors(tiny_clip, tmp_path):
    torch.manual_seed(0)
    trained = sep_model(tiny_clip, CLASSNAMES, "Caltech101", sep_cfg(FUSION_LAYERS=(0, 1)))
    with torch.no_grad():
        for param in trained.learnable.parameters():
            param.normal_()
    source = tmp_path / "model.pth.tar-50"
    torch.save({"state_dict": reference_state_of(trained, depth=2), "epoch": 50}, source)

    assert main(["--src", str(source), "--out", str(tmp_path / "run"), "--layers", "0", "1"]) == 0
    torch.manual_seed(1)
    fresh = sep_model(tiny_clip, CLASSNAMES, "Caltech101", sep_cfg(FUSION_LAYERS=(0, 1)))
    path = tmp_path / "run" / "prompt_learner" / "model.pth.tar-50"
    assert load_learned_state(fresh.learnable, str(path)) == 50
    for key, value in trained.learnable.state_dict().items():
        torch.testing.assert_close(fresh.learnable.state_dict()[key], value.half().float())


def test_tfms_beyond_the_layer_list_are_dropped():
    state = {
        "ctx": torch.zeros(1),
        "ctx_visual": torch.zeros(1),
        "VPT_fc.weight": torch.zeros(1),
        "prompt_projections.0.scale1": torch.ones(1),
        "prompt_projections.11.scale1": torch.ones(1),
    }
    converted = convert_state_dict(state, layers=(4,))
    assert "text_fusion.4.scale_1" in converted
    assert not any(".11." in key for key in converted)


def test_a_checkpoint_that_is_not_seps_is_refused():
    with pytest.raises(ValueError, match="Not a reference SEP checkpoint"):
        convert_state_dict({"ctx": torch.zeros(4, 8)})


def test_the_command_refuses_a_checkpoint_that_is_not_seps_in_one_error_line(tmp_path, capsys):
    source = tmp_path / "model.pth.tar-5"
    torch.save({"state_dict": {"ctx": torch.zeros(4, 8)}, "epoch": 5}, source)
    assert main(["--src", str(source), "--out", str(tmp_path / "run")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("Error: Not a reference SEP checkpoint")
    assert not (tmp_path / "run").exists()
