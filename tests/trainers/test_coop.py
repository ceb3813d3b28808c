import pytest
import torch

from prompting.clip_loading import load_clip_to_cpu
from prompting.text_encoder import encode_prompts_normalized
from tests.tolerances import assert_close_in_norm, fp32_rtol, text_encoder_size
from tests.trainers.helpers import (
    check_amp_matches_fp32,
    check_base_model_evaluates_on_new_classes,
    fixed_batch,
    make_trainer,
    optimised_parameters,
    trained_parameter_names,
)


def test_coop_logits_have_one_column_per_class(toy, tmp_path):
    trainer = make_trainer("CoOp", toy, tmp_path)
    image, _ = fixed_batch(trainer)
    logits = trainer.model(image)
    assert logits.shape == (image.shape[0], trainer.dm.num_classes)
    embed_dim = trainer.model.text_encoder.text_projection.shape[1]
    assert trainer.model.compute_text_features().shape == (trainer.dm.num_classes, embed_dim)


def test_coop_trains_only_the_context(toy, tmp_path):
    trainer = make_trainer("CoOp", toy, tmp_path)
    assert trained_parameter_names(trainer) == {"learnable.ctx"}
    assert optimised_parameters(trainer) == {id(trainer.model.learnable.ctx)}
    assert trainer.get_model_names() == ["prompt_learner"]
    assert set(trainer._models["prompt_learner"].state_dict()) == {"ctx"}
    # ctxv1: the 4 tokens of "a photo of a"
    width = trainer.model.text_encoder.ln_final.weight.shape[0]
    assert trainer.model.learnable.ctx.shape == (4, width)


@pytest.mark.numerical
def test_coop_initial_prompts_give_clips_features_of_the_plain_phrase(toy, tmp_path):
    # ctxv1 starts from "a photo of a": before training, CoOp's class text features are CLIP's
    # own features of "a photo of a <class>." (prompt assembly and text encoder are exact).
    trainer = make_trainer("CoOp", toy, tmp_path)
    classnames = [name.replace("_", " ") for name in trainer.dm.dataset.classnames]
    clip_model = load_clip_to_cpu(toy.tiny_clip_path).float()
    prompts = [f"a photo of a {name}." for name in classnames]
    expected = encode_prompts_normalized(clip_model, prompts)
    with torch.no_grad():
        learned = trainer.model.compute_text_features()
    assert_close_in_norm(learned, expected, fp32_rtol(*text_encoder_size(clip_model)))


def test_coop_base_checkpoint_evaluates_on_new_classes(toy, tmp_path):
    _, new = check_base_model_evaluates_on_new_classes("CoOp", toy, tmp_path, {"ctx"})
    assert new.model.learnable.tokenized_prompts.shape[0] == new.dm.num_classes


def test_coop_amp_on_cpu_matches_fp32(toy, tmp_path):
    check_amp_matches_fp32("CoOp", toy, tmp_path)


def test_coop_fp16_on_cpu_runs_in_fp32(toy, tmp_path):
    trainer = make_trainer("CoOp", toy, tmp_path, prec="fp16")
    assert trainer.precision == "fp32"
    assert trainer.model.learnable.ctx.dtype == torch.float32
    assert trainer.model.dtype == torch.float32
