"""Prediction with a trained run (launch.prediction): every method reproduces its evaluation on the
test images, an image's answer does not depend on the other images of the call, and any class
list can be given (open vocabulary)."""

import json
import math
import os

import pytest
import torch
from dassl.data.transforms import build_transform
from dassl.utils import read_image

from launch.prediction import classify, image_paths, load_predictor
from tests.run.own_runs import METHODS, REPO_ROOT, result
from tests.tolerances import (
    FP32_UNIT_ROUNDOFF,
    assert_close_in_norm,
    clip_size,
    fp32_rtol,
)
from tests.trainers.helpers import BATCH_COUPLED_METHODS, TRAINED_METHODS, published_cfg
from tools.prediction_vs_evaluation import compare
from trainers import TRAINERS, trainer_class

TEST_IMAGES = 12  # the base classes' test images of the toy data


def prediction_cases():
    """Each method as published, evaluated so that its evaluation answers every image as
    prediction does: a model that couples a batch's images in batches of one; a model whose
    forward pass moves its learned tensors in one batch of every test image (one pass from the
    tensors as loaded, as each of prediction's answers is). Then each method's per-image
    variant, which evaluation in any batches reproduces."""
    cases = []
    for name in METHODS:
        declared, cfg = trainer_class(name), published_cfg(name)
        if declared.image_batch_coupling(cfg):
            cases.append((name, "DATALOADER.TEST.BATCH_SIZE", 1))
        elif declared.forward_moves_learnable(cfg):
            cases.append((name, "DATALOADER.TEST.BATCH_SIZE", TEST_IMAGES))
        else:
            cases.append((name,))
        if declared.PER_IMAGE_OPTIONS:
            cases.append((name, *declared.PER_IMAGE_OPTIONS))
    return cases


CASES = prediction_cases()
# A coupled model's run evaluated in batches: its prediction still answers each image alone.
COUPLED_RUNS = [(name,) for name in BATCH_COUPLED_METHODS]
UNTRAINED_METHODS = [trainer.__name__ for trainer in TRAINERS if not trainer.LEARNER_NAME]


def case_id(case):
    return "-".join(map(str, case[:1] + case[2::2]))


def test_images_from_files_folders_and_patterns_each_once(tmp_path):
    for name in ("a.png", "b.jpg", "sub/c.png", "notes.txt"):
        os.makedirs(os.path.dirname(tmp_path / name), exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = image_paths([str(tmp_path / "b.jpg"), str(tmp_path), str(tmp_path / "*.png")])
    assert found == [str(tmp_path / n) for n in ("b.jpg", "a.png", "sub/c.png")]


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=case_id(c)) for c in CASES],
)
def test_prediction_on_the_test_images_reproduces_the_evaluation(own_runs, case):
    """The same test images, transform, precision and checkpoint give the same answers; the count
    of correct answers must match exactly (a flip would need two logits within float rounding)."""
    run_dir = own_runs.run(*case)
    record = result(run_dir)
    numbers = compare(run_dir, own_runs.data_root)
    assert numbers["total"] == record["total"] == TEST_IMAGES
    assert numbers["prediction_correct"] == record["correct"]


def logits_rtol(tiny_clip):
    """Relative error norm between two fp32 computations of the same logits: the same forward
    passes with the matrix products over other batch sizes (tests/tolerances.py)."""
    return fp32_rtol(*clip_size(tiny_clip))


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=case_id(c)) for c in CASES + COUPLED_RUNS],
)
def test_an_answer_is_the_same_alone_or_among_other_images(own_runs, case, tiny_clip):
    predictor = load_predictor(own_runs.run(*case))
    images = all_images(own_runs)[::3]
    together, kept, _ = predictor.logits(images, progress=False)
    assert kept == list(range(len(images)))
    for index in (0, len(images) // 2, len(images) - 1):
        alone, _, _ = predictor.logits([images[index]], progress=False)
        assert_close_in_norm(alone[0], together[index], logits_rtol(tiny_clip), str(index))


@pytest.mark.slow
@pytest.mark.parametrize("method", BATCH_COUPLED_METHODS)
def test_a_model_that_couples_a_batch_answers_each_image_as_a_batch_of_one_and_says_why(
    own_runs, method, capsys, tiny_clip
):
    predictor = load_predictor(own_runs.run(method))
    images = all_images(own_runs)[:6]
    capsys.readouterr()
    logits, _, _ = predictor.logits(images, progress=False)
    model = predictor.model_for(predictor.own_classnames)
    message = capsys.readouterr().out
    assert model.batch_coupling and all(cause in message for cause in model.batch_coupling)
    batch = torch.stack([predictor_input(predictor, path) for path in images])
    with torch.no_grad(), model.cached_text_features():
        one_by_one = torch.cat([model(image[None]) for image in batch])
        coupled = model(batch)
    torch.testing.assert_close(logits, one_by_one, atol=0, rtol=0)  # the same computation
    # the coupling is real: far beyond the rounding of the same maths
    assert (coupled - one_by_one).norm() > 100 * logits_rtol(tiny_clip) * one_by_one.norm()


def all_images(own_runs):
    return image_paths([os.path.join(own_runs.data_root, "shapes")])


def predictor_input(predictor, path):
    return build_transform(predictor.cfg, is_train=False)(read_image(path))


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_open_vocabulary_any_class_list_in_any_order(own_runs, method, tiny_clip):
    """Classes never trained on (the new half) can be given; the probability of a class does not
    depend on where it stands in the list (a method may attend across classes, as SEP's text
    fusion does, but without positions): reordering the classes reorders the same sums, so the
    logit vectors agree to fp32 rounding (``logits_rtol`` of their norm, at most sqrt(n_cls)
    times CLIP's logit scale), and softmax turns a largest logit error e into a probability error
    of at most e / 2."""
    run_dir = own_runs.run(method)
    images = all_images(own_runs)[::12]  # the first image of each class
    vocabulary = ["red circle", "green square", "blue triangle", "yellow cross", "a purple star"]
    forward = classify(images, run_dir, vocabulary, top_k=5)
    backward = classify(images, run_dir, vocabulary[::-1], top_k=5)
    assert {name for answer in forward for name, _ in answer.top} <= set(vocabulary)
    largest_logit = math.sqrt(len(vocabulary)) * tiny_clip.logit_scale.exp().item()
    logit_error = logits_rtol(tiny_clip) * largest_logit
    # a probability is an fp32 exponential (one rounding) over their sum (n roundings), divided
    # (one): relative error (n + 2) u each, so of their sum; twice that for exp's own error
    sum_error = 2 * (len(vocabulary) + 2) * FP32_UNIT_ROUNDOFF
    for one, other in zip(forward, backward):
        assert len(one.top) == 5 and abs(sum(p for _, p in one.top) - 1) <= sum_error
        assert [p for _, p in one.top] == sorted((p for _, p in one.top), reverse=True)
        probabilities = dict(other.top)
        for name, probability in one.top:
            assert probability == pytest.approx(probabilities[name], abs=logit_error / 2)


@pytest.mark.slow
def test_own_classes_by_default(own_runs):
    run_dir = own_runs.run(TRAINED_METHODS[0])
    answers = classify([os.path.join(own_runs.data_root, "shapes")], run_dir, top_k=10)
    assert {name for name, _ in answers[0].top} == set(result_classes(run_dir))
    assert len(answers[0].top) == 3  # top-k is cut at the number of classes


def result_classes(run_dir):
    with open(os.path.join(run_dir, "classes.json")) as file:
        return json.load(file)["classnames"]


@pytest.mark.slow
@pytest.mark.parametrize("method", UNTRAINED_METHODS)
def test_a_method_that_trains_nothing_needs_no_run_folder(own_runs, method):
    """Zero-shot CLIP from its config alone answers as its own evaluation run does."""
    run_dir = own_runs.run(method)
    images = all_images(own_runs)[::5]
    with_run = load_predictor(run_dir).logits(images, progress=False)[0]
    config = os.path.join(REPO_ROOT, "configs", "trainers", METHODS[method][1])
    options = own_runs.options(method)
    without = load_predictor("", config_file=config, opts=options).logits(
        images, result_classes(run_dir), progress=False
    )[0]
    torch.testing.assert_close(without, with_run, atol=0, rtol=0)
