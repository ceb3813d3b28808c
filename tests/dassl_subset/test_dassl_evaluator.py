import pytest
import torch
from dassl.evaluation import build_evaluator
from sklearn.metrics import f1_score

Y_TRUE = [0, 0, 1, 1, 2, 2, 2, 3]
Y_PRED = [0, 1, 1, 1, 2, 0, 2, 4]  # label 4 is never true: excluded from the macro average


def _logits(predictions, num_classes=5):
    return torch.nn.functional.one_hot(torch.tensor(predictions), num_classes).float()


def _run(cfg, **kwargs):
    evaluator = build_evaluator(cfg, **kwargs)
    evaluator.process(_logits(Y_PRED[:5]), torch.tensor(Y_TRUE[:5]))
    evaluator.process(_logits(Y_PRED[5:]), torch.tensor(Y_TRUE[5:]))
    return evaluator


def test_prints_dassls_result_block_and_returns_accuracy_first(cpu_cfg, capsys):
    evaluator = _run(cpu_cfg)
    results = evaluator.evaluate()
    macro_f1 = 100 * f1_score(Y_TRUE, Y_PRED, average="macro", labels=[0, 1, 2, 3])
    assert capsys.readouterr().out == (
        "=> result\n"
        "* total: 8\n"
        "* correct: 5\n"
        "* accuracy: 62.5%\n"
        "* error: 37.5%\n"
        f"* macro_f1: {macro_f1:.1f}%\n"
    )
    assert list(results) == ["accuracy", "error_rate", "macro_f1"]
    assert results["accuracy"] == 62.5 and results["error_rate"] == 37.5
    assert results["macro_f1"] == pytest.approx(macro_f1)


def test_keeps_raw_counts_and_labels_and_reset_clears_them(cpu_cfg):
    evaluator = _run(cpu_cfg)
    assert (evaluator._correct, evaluator._total) == (5, 8)
    assert evaluator._y_true == Y_TRUE and evaluator._y_pred == Y_PRED
    evaluator.reset()
    assert (evaluator._correct, evaluator._total, evaluator._y_true, evaluator._y_pred) == (
        0,
        0,
        [],
        [],
    )


def test_per_class_result_and_confusion_matrix(cpu_cfg, capsys):
    cpu_cfg.TEST.PER_CLASS_RESULT = True
    cpu_cfg.TEST.COMPUTE_CMAT = True
    lab2cname = {0: "ant", 1: "bee", 2: "cat", 3: "dog"}
    results = _run(cpu_cfg, lab2cname=lab2cname).evaluate()
    out = capsys.readouterr().out
    assert "=> per-class result\n* class: 0 (ant)\ttotal: 2\tcorrect: 1\tacc: 50.0%\n" in out
    assert "* class: 2 (cat)\ttotal: 3\tcorrect: 2\tacc: 66.7%\n" in out
    assert "* average: 54.2%\n" in out
    assert results["perclass_accuracy"] == pytest.approx((50 + 100 + 200 / 3 + 0) / 4)
    cmat = torch.load(f"{cpu_cfg.OUTPUT_DIR}/cmat.pt", weights_only=True)
    assert cmat.shape == (5, 5)
    assert cmat[2].tolist() == pytest.approx([1 / 3, 0, 2 / 3, 0, 0])
    assert cmat[3].tolist() == [0, 0, 0, 0, 1]


def test_per_class_result_needs_lab2cname(cpu_cfg):
    cpu_cfg.TEST.PER_CLASS_RESULT = True
    with pytest.raises(ValueError, match="lab2cname"):
        build_evaluator(cpu_cfg)


def test_unknown_evaluator_name_is_rejected(cpu_cfg):
    cpu_cfg.TEST.EVALUATOR = "Clasification"
    with pytest.raises(ValueError, match=r"do you mean \[Classification\]"):
        build_evaluator(cpu_cfg)
