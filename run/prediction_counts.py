"""The number of test images and of correct top-1 predictions, counted from the outputs as they
pass to the evaluator (its own counters are private to Dassl)."""

import torch


class CountedPredictions:
    """Wraps an evaluator: every ``process`` call is counted, then handed on unchanged."""

    def __init__(self, evaluator):
        self.evaluator = evaluator
        self.total = 0
        self.correct = 0

    def reset(self) -> None:
        self.total = 0
        self.correct = 0
        self.evaluator.reset()

    def process(self, output: torch.Tensor, label: torch.Tensor) -> None:
        self.total += int(label.shape[0])
        self.correct += int((output.argmax(dim=1) == label).sum())
        self.evaluator.process(output, label)

    def evaluate(self):
        return self.evaluator.evaluate()

    def __getattr__(self, name):
        # anything else an evaluator offers (Dassl's is built per config)
        return getattr(self.evaluator, name)
