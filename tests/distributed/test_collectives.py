"""The collectives of run/distributed.py in two gloo processes, against the one-process maths."""

import json
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from run.distributed import (
    GatheredPredictions,
    broadcast_state,
    gather_rows,
    global_loss,
    sum_gradients,
)
from run.distributed_loading import GlobalBatchShares

PROCESSES = 2


class RecordingEvaluator:
    def __init__(self):
        self.calls = []

    def process(self, output, label):
        self.calls.append([output.tolist(), label.tolist()])


def checks(rank):
    """What this process observes, as plain values."""
    observed = {}
    # gather_rows: 3 rows on rank 0, 1 row on rank 1; each rank weights the gathered rows
    rows = torch.full((3 - 2 * rank, 2), float(rank + 1), requires_grad=True)
    gathered = gather_rows(rows)
    weights = torch.arange(8.0).reshape(4, 2) * (rank + 1)
    (gathered * weights).sum().backward()
    observed["gathered"] = gathered.tolist()
    observed["row_grad"] = rows.grad.tolist()

    loss, whole = global_loss(torch.tensor(1.0 if rank == 0 else 5.0), 3 if rank == 0 else 1)
    observed["weighted_loss"], observed["whole_loss"] = loss.item(), whole.item()

    both, one, none = (torch.nn.Parameter(torch.zeros(1)) for _ in range(3))
    both.grad = torch.tensor([rank + 1.0])
    if rank == 1:
        one.grad = torch.tensor([2.0])
    sum_gradients([both, one, none])
    observed["grads"] = [both.grad.item(), one.grad.item(), none.grad]

    module = torch.nn.Linear(2, 1)
    torch.nn.init.constant_(module.weight, float(rank))
    broadcast_state(module)
    observed["broadcast_weight"] = module.weight.tolist()

    evaluator = RecordingEvaluator()
    predictions = GatheredPredictions(evaluator)
    if rank == 0:
        predictions.process(torch.tensor([[0.0, 1.0], [2.0, 3.0]]), torch.tensor([1, 0]))
    predictions.finish(n_outputs=2)
    observed["evaluated"] = evaluator.calls

    order = list(range(6)) if rank == 0 else list(range(6))[::-1]  # only rank 0's order counts
    observed["shares"] = list(GlobalBatchShares(order, 4, False, rank, PROCESSES))
    return observed


def worker(rank, folder):
    dist.init_process_group(
        "gloo",
        init_method=f"file://{os.path.join(folder, 'store')}",
        rank=rank,
        world_size=PROCESSES,
    )
    try:
        with open(os.path.join(folder, f"rank{rank}.json"), "w") as file:
            json.dump(checks(rank), file)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_collectives_of_two_processes_match_the_one_process_maths(tmp_path):
    mp.spawn(worker, args=(str(tmp_path),), nprocs=PROCESSES)
    observed = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    rows = [[1.0, 1.0]] * 3 + [[2.0, 2.0]]
    # d/d(rows of rank r) of sum over ranks of (gathered * arange * (rank + 1)) = arange * 3
    summed_weights = (torch.arange(8.0).reshape(4, 2) * 3).tolist()
    for rank, seen in enumerate(observed):
        assert seen["gathered"] == rows
        assert seen["row_grad"] == (summed_weights[:3] if rank == 0 else summed_weights[3:])
        assert seen["whole_loss"] == pytest.approx((3 * 1.0 + 1 * 5.0) / 4)
        assert seen["grads"] == [3.0, 2.0, None]
        assert seen["broadcast_weight"] == [[0.0, 0.0]]
        assert seen["evaluated"] == [[[[0.0, 1.0], [2.0, 3.0]], [1, 0]]]
    assert [seen["weighted_loss"] for seen in observed] == pytest.approx([3 / 4, 5 / 4])
    # batches [0..3] and [4, 5] of rank 0's order, split in two
    assert observed[0]["shares"] == [[0, 1], [4]]
    assert observed[1]["shares"] == [[2, 3], [5]]
