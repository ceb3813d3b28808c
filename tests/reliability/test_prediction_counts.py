"""Test counts come from the outputs themselves, and agree with the accuracy Dassl reports."""

import torch
from dassl.config import get_cfg_default
from dassl.evaluation import build_evaluator

from run.prediction_counts import CountedPredictions


def test_counts_are_the_images_and_the_correct_top1_predictions_the_evaluator_saw():
    cfg = get_cfg_default()
    counted = CountedPredictions(build_evaluator(cfg, lab2cname={0: "a", 1: "b", 2: "c"}))
    counted.reset()
    outputs = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4], [0.0, 0.2, 0.8]])
    labels = torch.tensor([0, 1, 2, 2])  # the third is wrong
    counted.process(outputs[:2], labels[:2])
    counted.process(outputs[2:], labels[2:])
    assert (counted.total, counted.correct) == (4, 3)
    results = counted.evaluate()
    assert results["accuracy"] == 100.0 * 3 / 4
    counted.reset()
    assert (counted.total, counted.correct) == (0, 0)
