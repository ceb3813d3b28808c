"""Prediction with a trained run (launch.prediction): every method reproduces its evaluation on the
test images, an image's answer does not depend on the other images of the call, and any class
list can be given (open vocabulary)."""

import json
import os

import pytest
import torch
from dassl.data.transforms import build_transform
from dassl.utils import read_image

from launch.prediction import classify, image_paths, load_predictor
from tests.run.own_runs import METHODS, REPO_ROOT, result
from tools.prediction_vs_evaluation import compare

# SEP's default couples the images of a batch; evaluated one image per batch it does not, and its
# per_input / sample variant never does.
SEP_PER_IMAGE = ("SEP", "DATALOADER.TEST.BATCH_SIZE", 1)
SEP_PAPER = (
    "SEP",
    "TRAINER.SEP.ATTENTION_AXIS",
    "per_input",
    "TRAINER.SEP.SELECTION_MODE",
    "sample",
)
# HiCroPL's default (in-place) flow moves its prompts at every forward pass, so evaluation in
# several batches drifts; prediction answers each image from the loaded prompts, which is what an
# evaluation in one batch (all 12 test images) does. Its differentiable flow moves nothing.
HICROPL_ONE_PASS = ("HiCroPL", "DATALOADER.TEST.BATCH_SIZE", 12)
HICROPL_DIFFERENTIABLE = ("HiCroPL", "TRAINER.HICROPL.FLOW", "differentiable")
CASES = [(name,) for name in METHODS if name not in ("SEP", "HiCroPL")] + [
    SEP_PER_IMAGE,
    SEP_PAPER,
    HICROPL_ONE_PASS,
    HICROPL_DIFFERENTIABLE,
]


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
    assert numbers["total"] == record["total"] == 12
    assert numbers["prediction_correct"] == record["correct"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=case_id(c)) for c in CASES] + [pytest.param(("SEP",), id="SEP-reference")],
)
def test_an_answer_is_the_same_alone_or_among_other_images(own_runs, case):
    """fp32 logits of one image alone or in a batch differ by matrix-product rounding only: about
    D * 2^-24 of a cosine (D <= 64 here), times CLIP's logit scale 100, i.e. below 1e-3; softmax
    changes probabilities by at most a quarter of that."""
    predictor = load_predictor(own_runs.run(*case))
    images = all_images(own_runs)[::3]
    together, kept, _ = predictor.logits(images, progress=False)
    assert kept == list(range(len(images)))
    for index in (0, len(images) // 2, len(images) - 1):
        alone, _, _ = predictor.logits([images[index]], progress=False)
        torch.testing.assert_close(alone[0], together[index], atol=1e-3, rtol=0)


@pytest.mark.slow
def test_sep_reference_mode_answers_each_image_as_a_batch_of_one(own_runs):
    predictor = load_predictor(own_runs.run("SEP"))
    images = all_images(own_runs)[:6]
    logits, _, _ = predictor.logits(images, progress=False)
    model = predictor.model_for(predictor.own_classnames)
    assert model.couples_batch_images
    batch = torch.stack([predictor_input(predictor, path) for path in images])
    with torch.no_grad(), model.cached_text_features():
        one_by_one = torch.cat([model(image[None]) for image in batch])
        coupled = model(batch)
    torch.testing.assert_close(logits, one_by_one, atol=0, rtol=0)
    assert not torch.allclose(coupled, one_by_one, atol=1e-4)  # the coupling is real


def all_images(own_runs):
    return image_paths([os.path.join(own_runs.data_root, "shapes")])


def predictor_input(predictor, path):
    return build_transform(predictor.cfg, is_train=False)(read_image(path))


@pytest.mark.slow
@pytest.mark.parametrize("method", ["CoOp", "SEP"])
def test_open_vocabulary_any_class_list_in_any_order(own_runs, method):
    """Classes never trained on (the new half) can be given; the probability of a class does not
    depend on where it stands in the list (SEP's text fusion attends across classes, but without
    positions)."""
    run_dir = own_runs.run(method)
    images = all_images(own_runs)[::12]  # the first image of each class
    vocabulary = ["red circle", "green square", "blue triangle", "yellow cross", "a purple star"]
    forward = classify(images, run_dir, vocabulary, top_k=5)
    backward = classify(images, run_dir, vocabulary[::-1], top_k=5)
    assert {name for answer in forward for name, _ in answer.top} <= set(vocabulary)
    for one, other in zip(forward, backward):
        assert len(one.top) == 5 and abs(sum(p for _, p in one.top) - 1) < 1e-5
        assert [p for _, p in one.top] == sorted((p for _, p in one.top), reverse=True)
        probabilities = dict(other.top)
        for name, probability in one.top:
            assert probability == pytest.approx(probabilities[name], abs=1e-5)


@pytest.mark.slow
def test_own_classes_by_default(own_runs):
    run_dir = own_runs.run("CoOp")
    answers = classify([os.path.join(own_runs.data_root, "shapes")], run_dir, top_k=10)
    assert {name for name, _ in answers[0].top} == set(result_classes(run_dir))
    assert len(answers[0].top) == 3  # top-k is cut at the number of classes


def result_classes(run_dir):
    with open(os.path.join(run_dir, "classes.json")) as file:
        return json.load(file)["classnames"]


@pytest.mark.slow
def test_zero_shot_clip_needs_no_run_folder(own_runs):
    """Zero-shot CLIP from its config alone answers as its own evaluation run does."""
    run_dir = own_runs.run("ZeroshotCLIP")
    images = all_images(own_runs)[::5]
    with_run = load_predictor(run_dir).logits(images, progress=False)[0]
    config = os.path.join(REPO_ROOT, "configs", "trainers", METHODS["ZeroshotCLIP"][1])
    options = own_runs.options("ZeroshotCLIP")
    without = load_predictor("", config_file=config, opts=options).logits(
        images, result_classes(run_dir), progress=False
    )[0]
    torch.testing.assert_close(without, with_run, atol=0, rtol=0)
