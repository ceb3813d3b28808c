"""PromptSRC against its independent statement: loss terms, GPA, parameter count, resume."""

import os

import pytest
import torch

from prompting.clip_loading import load_clip_to_cpu
from prompting.deep_prompt_model import DeepTextPrompts, IndependentPrompts
from prompting.templates import ENSEMBLE_TEMPLATES
from run.untrusted_files import load_checkpoint_file
from run.user_errors import ConfigError
from tests.reliability.train_args import toy_argv, train_quietly
from tests.tolerances import assert_close_in_norm, clip_size, fp32_rtol
from tests.trainers import independent_promptsrc as ref
from tests.trainers.deep_prompt_helpers import (
    CLASSNAMES,
    LABELS,
    deeper_tiny_clip,
    images,
    perturb,
    trained_count,
    vit_b16_trained_count,
)
from tests.trainers.helpers import (
    check_amp_matches_fp32,
    check_base_model_evaluates_on_new_classes,
    make_trainer,
    saved_state_dict,
)
from trainers.promptsrc import PromptSRC, PromptSRCModel, ensemble_text_features

TEXT_WEIGHT, IMAGE_WEIGHT = 25.0, 10.0
TEMPLATES = ENSEMBLE_TEMPLATES[:3]  # the plain statement runs one sequence at a time


def build_promptsrc(clip_model):
    torch.manual_seed(0)
    text = DeepTextPrompts(CLASSNAMES, clip_model, 4, 2, "a photo of a")
    learnable = IndependentPrompts(text, clip_model, 3, 3)
    perturb(learnable)
    return PromptSRCModel(clip_model, learnable, CLASSNAMES, TEMPLATES, TEXT_WEIGHT, IMAGE_WEIGHT)


@pytest.mark.numerical
def test_loss_terms_match_the_independent_statement():
    clip_model = deeper_tiny_clip()
    model = build_promptsrc(clip_model)
    logits, terms = model.training_loss(images(), LABELS)
    learnable = model.learnable
    expected_logits, expected = ref.promptsrc_loss_terms(
        clip_model,
        images(),
        LABELS,
        CLASSNAMES,
        "a photo of a",
        [p.detach() for p in learnable.text.layers()],
        [p.detach() for p in learnable.visual_prompts()],
        TEMPLATES,
    )
    assert_close_in_norm(logits, expected_logits, fp32_rtol(*clip_size(clip_model)))
    weights = {"ce": 1.0, "text": TEXT_WEIGHT, "image": IMAGE_WEIGHT, "logits": 1.0}
    assert set(terms) == set(weights)
    for name, weight in weights.items():
        assert_close_in_norm(
            terms[name], weight * expected[name], fp32_rtol(*clip_size(clip_model))
        )
    assert all(terms[name] > 0 for name in terms)  # every term is exercised
    assert_close_in_norm(
        sum(terms.values()),
        ref.promptsrc_total(expected, TEXT_WEIGHT, IMAGE_WEIGHT),
        fp32_rtol(*clip_size(clip_model)),
    )


@pytest.mark.numerical
def test_ensemble_text_features_are_frozen_clip_averaged_over_the_templates():
    clip_model = deeper_tiny_clip()
    expected = ref.frozen_text_features(clip_model, CLASSNAMES, TEMPLATES)
    features = ensemble_text_features(clip_model, CLASSNAMES, TEMPLATES)
    assert_close_in_norm(features, expected, fp32_rtol(*clip_size(clip_model)))
    assert "ensemble_text_features" not in build_promptsrc(clip_model).state_dict()


def test_the_trainer_averages_the_authors_60_templates(toy, tmp_path):
    trainer = make_trainer("PromptSRC", toy, tmp_path)
    assert len(set(ENSEMBLE_TEMPLATES)) == 60
    clip_model = load_clip_to_cpu(toy.tiny_clip_path).float()
    expected = ensemble_text_features(clip_model, trainer.dm.dataset.classnames, ENSEMBLE_TEMPLATES)
    torch.testing.assert_close(trainer.model.ensemble_text_features, expected)
    # text 64 wide, vision 128 wide on the tiny CLIP; depth 2, 4 tokens each
    assert trained_count(trainer.model) == 2 * 4 * 64 + 2 * 4 * 128


@pytest.mark.parametrize("std, key", [(0.0, "GPA_STD"), (-1.0, "GPA_STD")])
def test_invalid_gpa_is_a_config_error(std, key, toy, tmp_path):
    with pytest.raises(ConfigError, match=key):
        make_trainer("PromptSRC", toy, tmp_path, "TRAINER.PROMPTSRC.GPA_STD", std)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config, expected",
    [
        ("vit_b16_c2_ep20_batch4_4+4ctx.yaml", 46_080),  # the paper's 46K
        ("vit_b16_c2_ep20_batch4_4+4ctx_cross_datasets.yaml", 15_360),
    ],
)
def test_published_configs_train_the_published_number_of_parameters_on_vit_b16(config, expected):
    count = vit_b16_trained_count("PromptSRC", config)
    assert count == expected


def test_training_ends_with_the_gaussian_average_of_the_epochs(toy, tmp_path):
    epochs = 3
    trainer = make_trainer(
        "PromptSRC",
        toy,
        tmp_path,
        "OPTIM.MAX_EPOCH",
        epochs,
        "TRAINER.PROMPTSRC.GPA_MEAN",
        2.0,
        "TRAINER.PROMPTSRC.GPA_STD",
        1.0,
        "TEST.NO_TEST",
        True,
    )
    after_each_epoch = []
    add = trainer.prompt_average.add

    def recording_add(learnable, epoch):
        after_each_epoch.append({k: v.detach().clone() for k, v in learnable.named_parameters()})
        add(learnable, epoch)

    trainer.prompt_average.add = recording_add
    trainer.train()
    assert len(after_each_epoch) == epochs
    weights = ref.gaussian_epoch_weights(2.0, 1.0, epochs)
    final = dict(trainer.model.learnable.named_parameters())
    for name, value in final.items():
        expected = ref.aggregated([state[name] for state in after_each_epoch], weights)
        torch.testing.assert_close(value.detach(), expected)
        assert not torch.equal(value.detach(), after_each_epoch[-1][name])
    saved = saved_state_dict(tmp_path, epoch=epochs)
    for name, value in trainer.model.learnable.state_dict().items():
        assert torch.equal(saved[name], value), name


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


@pytest.mark.slow
def test_a_run_killed_after_an_epoch_resumes_to_the_same_average(toy, tmp_path, monkeypatch):
    options = (*PromptSRC.TINY_DEPTH_OPTIONS, "TRAINER.PROMPTSRC.GPA_MEAN", 2.0)
    uninterrupted = tmp_path / "uninterrupted"
    status, output = train_quietly(
        toy_argv(toy, uninterrupted, *options, trainer="PromptSRC", epochs=3)
    )
    assert status == 0, output[-2000:]

    interrupted = tmp_path / "interrupted"
    original = PromptSRC.after_epoch

    def after_epoch_then_killed(self):
        original(self)
        if self.epoch == 0:
            raise Killed()

    monkeypatch.setattr(PromptSRC, "after_epoch", after_epoch_then_killed)
    argv = toy_argv(toy, interrupted, *options, trainer="PromptSRC", epochs=3)
    with pytest.raises(Killed):
        train_quietly(argv)
    monkeypatch.setattr(PromptSRC, "after_epoch", original)
    status, output = train_quietly(argv)
    assert status == 0, output[-2000:]

    for folder in ("prompt_learner", PromptSRC.AVERAGE_NAME):
        path = os.path.join(folder, "model.pth.tar-3")
        expected = load_checkpoint_file(uninterrupted / path)["state_dict"]
        resumed = load_checkpoint_file(interrupted / path)["state_dict"]
        assert expected.keys() == resumed.keys()
        for key in expected:
            # exact: the resumed run repeats the same ops in the same order from saved fp32
            assert torch.equal(resumed[key], expected[key]), key


def test_base_checkpoint_evaluates_on_new_classes(toy, tmp_path):
    check_base_model_evaluates_on_new_classes(
        "PromptSRC",
        toy,
        tmp_path,
        ["text.prompt_learner.ctx", "text.deep.0", "visual.0", "visual.1"],
    )


def test_amp_matches_fp32_and_trains(toy, tmp_path):
    check_amp_matches_fp32("PromptSRC", toy, tmp_path)
