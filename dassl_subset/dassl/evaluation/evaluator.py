"""Accumulate predictions batch by batch and report accuracy / error / macro F1."""

import os
from collections import OrderedDict, defaultdict

import numpy as np
import torch

from .build import EVALUATOR_REGISTRY


class EvaluatorBase:
    def __init__(self, cfg):
        self.cfg = cfg

    def reset(self):
        raise NotImplementedError

    def process(self, mo, gt):
        raise NotImplementedError

    def evaluate(self):
        raise NotImplementedError


def macro_f1_score(y_true, y_pred):
    """Mean over the labels present in ``y_true`` of 2TP / (2TP + FP + FN) (sklearn's macro F1)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for label in np.unique(y_true):
        true_positive = np.sum((y_pred == label) & (y_true == label))
        false_positive = np.sum((y_pred == label) & (y_true != label))
        false_negative = np.sum((y_pred != label) & (y_true == label))
        scores.append(2 * true_positive / (2 * true_positive + false_positive + false_negative))
    return float(np.mean(scores))


def row_normalized_confusion_matrix(y_true, y_pred):
    """[n_labels, n_labels] over sorted labels of both lists; row i sums to 1 (true label i)."""
    labels = np.unique(np.concatenate([y_true, y_pred]))
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)))
    for truth, prediction in zip(y_true, y_pred):
        counts[index[truth], index[prediction]] += 1
    row_sums = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, row_sums, out=np.zeros_like(counts), where=row_sums > 0)


@EVALUATOR_REGISTRY.register()
class Classification(EvaluatorBase):
    """Top-1 classification evaluator (optionally per class and with a confusion matrix)."""

    def __init__(self, cfg, lab2cname=None, **kwargs):
        super().__init__(cfg)
        self._lab2cname = lab2cname
        if cfg.TEST.PER_CLASS_RESULT and lab2cname is None:
            raise ValueError("TEST.PER_CLASS_RESULT needs build_evaluator(cfg, lab2cname=...)")
        self._per_class_res = None
        self.reset()

    def reset(self):
        self._correct = 0
        self._total = 0
        self._y_true = []
        self._y_pred = []
        if self.cfg.TEST.PER_CLASS_RESULT:
            self._per_class_res = defaultdict(list)  # label -> [1 if correct else 0, ...]

    def process(self, mo, gt):
        """``mo``: logits [batch, num_classes]; ``gt``: labels [batch]."""
        pred = mo.max(1)[1]
        matches = pred.eq(gt).int()
        self._correct += int(matches.sum().item())
        self._total += gt.shape[0]
        self._y_true.extend(gt.detach().cpu().tolist())
        self._y_pred.extend(pred.detach().cpu().tolist())
        if self._per_class_res is not None:
            for label, match in zip(gt.tolist(), matches.tolist()):
                self._per_class_res[label].append(match)

    def evaluate(self):
        accuracy = 100.0 * self._correct / self._total
        error = 100.0 - accuracy
        macro_f1 = 100.0 * macro_f1_score(self._y_true, self._y_pred)
        results = OrderedDict()  # trainer.test() returns the first value
        results["accuracy"] = accuracy
        results["error_rate"] = error
        results["macro_f1"] = macro_f1
        print(
            "=> result\n"
            f"* total: {self._total:,}\n"
            f"* correct: {self._correct:,}\n"
            f"* accuracy: {accuracy:.1f}%\n"
            f"* error: {error:.1f}%\n"
            f"* macro_f1: {macro_f1:.1f}%"
        )

        if self._per_class_res is not None:
            print("=> per-class result")
            class_accuracies = []
            for label in sorted(self._per_class_res):
                hits = self._per_class_res[label]
                correct, total = sum(hits), len(hits)
                class_accuracy = 100.0 * correct / total
                class_accuracies.append(class_accuracy)
                print(
                    f"* class: {label} ({self._lab2cname[label]})\t"
                    f"total: {total:,}\t"
                    f"correct: {correct:,}\t"
                    f"acc: {class_accuracy:.1f}%"
                )
            mean_accuracy = float(np.mean(class_accuracies))
            print(f"* average: {mean_accuracy:.1f}%")
            results["perclass_accuracy"] = mean_accuracy

        if self.cfg.TEST.COMPUTE_CMAT:
            cmat = row_normalized_confusion_matrix(self._y_true, self._y_pred)
            save_path = os.path.join(self.cfg.OUTPUT_DIR, "cmat.pt")
            os.makedirs(self.cfg.OUTPUT_DIR, exist_ok=True)
            torch.save(torch.from_numpy(cmat), save_path)  # a tensor, so weights_only loading works
            print(f"Confusion matrix is saved to {save_path}")

        return results
