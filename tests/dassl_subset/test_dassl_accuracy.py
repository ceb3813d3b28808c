import pytest
import torch
from dassl.metrics import compute_accuracy


def test_topk_accuracy_in_percent_on_a_known_example():
    logits = torch.tensor(
        [
            [0.9, 0.05, 0.05],  # top-1 = 0
            [0.2, 0.5, 0.3],  # top-1 = 1, top-2 = {1, 2}
            [0.6, 0.1, 0.3],  # top-1 = 0, top-2 = {0, 2}
            [0.1, 0.2, 0.7],  # top-1 = 2, top-2 = {2, 1}
        ]
    )
    target = torch.tensor([0, 2, 2, 0])
    top1, top2 = compute_accuracy(logits, target, topk=(1, 2))
    assert top1.shape == (1,) and top1.item() == 25.0
    assert top2.item() == 75.0


def test_a_tuple_output_uses_its_first_element():
    logits = torch.eye(3)
    assert compute_accuracy((logits, "features"), torch.tensor([0, 1, 0]))[
        0
    ].item() == pytest.approx(200 / 3)
