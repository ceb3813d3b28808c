"""How the processes share the batches one process draws (run/distributed_loading.py)."""

import pytest

from run.distributed_loading import GlobalBatchShares, share_bounds


def shares(n_items, batch_size, drop_last, process, processes):
    sampler = list(range(n_items))  # the order one process draws
    return list(
        GlobalBatchShares(sampler, batch_size, drop_last, process, processes).shares_of(sampler)
    )


def test_share_bounds_split_a_batch_into_contiguous_shares_differing_by_at_most_one():
    assert share_bounds(8, 2) == [(0, 4), (4, 8)]
    assert share_bounds(7, 3) == [(0, 3), (3, 5), (5, 7)]


def test_a_batch_smaller_than_the_processes_goes_whole_to_the_main_process():
    assert share_bounds(1, 2) == [(0, 1), (1, 1)]


def test_training_shares_of_two_processes_are_the_halves_of_each_full_batch():
    # 10 images, batch 4, the last partial batch dropped: batches [0..3] and [4..7]
    assert shares(10, 4, True, 0, 2) == [[0, 1], [4, 5]]
    assert shares(10, 4, True, 1, 2) == [[2, 3], [6, 7]]


@pytest.mark.parametrize("processes", [2, 3, 4])
@pytest.mark.parametrize("n_items,batch_size", [(12, 4), (10, 4), (7, 8), (5, 3)])
def test_shares_in_rank_order_rebuild_every_batch_of_one_process(processes, n_items, batch_size):
    one_process = [
        list(range(start, min(start + batch_size, n_items)))
        for start in range(0, n_items, batch_size)
    ]
    per_process = [shares(n_items, batch_size, False, p, processes) for p in range(processes)]
    rebuilt = []
    for index in range(len(one_process)):
        rebuilt.append([item for own in per_process if index < len(own) for item in own[index]])
    assert rebuilt == one_process


def test_an_evaluation_tail_smaller_than_the_processes_is_the_main_process_alone():
    # 10 images, batch 4, three processes: batches of 4, 4 and 2; the last is not shared
    sampler = list(range(10))
    main = GlobalBatchShares(sampler, 4, False, 0, 3)
    other = GlobalBatchShares(sampler, 4, False, 2, 3)
    assert list(main.shares_of(sampler)) == [[0, 1], [4, 5], [8, 9]]
    assert list(other.shares_of(sampler)) == [[3], [7]]
    assert (len(main), len(other)) == (3, 2)
    assert main.shared_batches == other.shared_batches == 2
