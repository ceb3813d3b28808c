"""Each process's share of the batches that one process would draw."""

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Sampler

from .distributed import DistributedSetupError, collective_device, rank, world_size


def share_bounds(batch_size, processes):
    """``(start, stop)`` of each process's contiguous share of a batch of ``batch_size`` items.

    Shares differ by at most one item; a batch smaller than ``processes`` (only ever the last
    batch of an evaluation) goes whole to the main process.
    """
    if batch_size < processes:
        return [(0, batch_size)] + [(batch_size, batch_size)] * (processes - 1)
    base, extra = divmod(batch_size, processes)
    bounds, start = [], 0
    for process in range(processes):
        stop = start + base + (1 if process < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


class GlobalBatchShares(Sampler):
    """Batch sampler: this process's share of each batch ``sampler`` and ``batch_size`` give.

    Every process draws the order from ``sampler`` (so their random states advance alike) and
    takes the main process's, so together they see exactly the batches one process seeded the
    same way draws, each image once: no padding, nothing counted twice. Batches of at least
    ``processes`` items ("shared" batches, all of a training epoch) are split over every process.
    """

    def __init__(self, sampler, batch_size, drop_last, process, processes):
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.process = process
        self.processes = processes

    def global_batch_sizes(self):
        full, rest = divmod(len(self.sampler), self.batch_size)
        return [self.batch_size] * full + ([rest] if rest and not self.drop_last else [])

    @property
    def shared_batches(self):
        """How many batches (the first ones) are split over every process."""
        return sum(size >= self.processes for size in self.global_batch_sizes())

    def own_share(self, batch_size):
        return share_bounds(batch_size, self.processes)[self.process]

    def __len__(self):
        return sum(stop > start for start, stop in map(self.own_share, self.global_batch_sizes()))

    def __iter__(self):
        order = torch.tensor(list(iter(self.sampler)), dtype=torch.long)
        order = order.to(collective_device())
        dist.broadcast(order, src=0)
        yield from self.shares_of(order.tolist())

    def shares_of(self, order):
        """This process's share of each batch of the index list ``order``."""
        start = 0
        for size in self.global_batch_sizes():
            share_start, share_stop = self.own_share(size)
            if share_stop > share_start:
                yield order[start + share_start : start + share_stop]
            start += size


def distributed_loader(loader):
    """``loader`` (a DataLoader with a sampler and a batch size) reading this process's shares."""
    shares = GlobalBatchShares(
        loader.sampler, loader.batch_size, loader.drop_last, rank(), world_size()
    )
    return DataLoader(
        loader.dataset,
        batch_sampler=shares,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        worker_init_fn=loader.worker_init_fn,
        generator=loader.generator,
        prefetch_factor=loader.prefetch_factor,
        persistent_workers=loader.persistent_workers,
    )


def distributed_training_loader(loader):
    """As ``distributed_loader``; every training step needs every process, so each training
    batch must have at least one image per process."""
    distributed = distributed_loader(loader)
    shares = distributed.batch_sampler
    if shares.shared_batches < len(shares.global_batch_sizes()):
        raise DistributedSetupError(
            f"The training set has {len(shares.sampler)} images, fewer than the "
            f"{shares.processes} processes: run with fewer processes (--nproc_per_node)."
        )
    return distributed
