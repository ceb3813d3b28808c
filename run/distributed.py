"""Several processes started by torchrun train one model as one process would.

``torchrun --nproc_per_node N train.py ...`` starts N copies of train.py, which find each other
through the environment torchrun sets (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ...). Each
process takes a share of every batch one process would draw (``run.distributed_loading``); the
gradients of the shares are summed across processes before each optimizer step, with each
process's loss weighted by its share of the batch, so a step equals the step one process takes on
the whole batch. Methods whose outputs couple the images of a batch see the whole batch through
``gather_rows``. Only the main process (rank 0) writes files.
"""

import os

import torch
import torch.distributed as dist

from .user_errors import ConfigError


class DistributedSetupError(ConfigError):
    pass


def launched_by_torchrun():
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def process_rank():
    """This process's rank as torchrun set it (0 in a plain run), also before and after the
    process group exists."""
    return int(os.environ.get("RANK", "0"))


def init_process_group(use_cuda):
    """Join the process group torchrun describes (nccl on CUDA, gloo on CPU).

    Returns whether this run is distributed; a plain ``python train.py`` run is not.
    """
    if not launched_by_torchrun():
        return False
    if use_cuda and torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        backend = "nccl"
    else:
        backend = "gloo"
    dist.init_process_group(backend)
    return True


def close_process_group():
    if is_distributed():
        dist.destroy_process_group()


def is_distributed():
    return dist.is_available() and dist.is_initialized()


def world_size():
    if is_distributed():
        return dist.get_world_size()
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank():
    return dist.get_rank() if is_distributed() else 0


def is_main_process():
    return rank() == 0


def collective_device():
    """Where tensors passed to collectives live: nccl needs them on this process's GPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def check_global_batch(cfg, processes):
    """The training batch (DATALOADER.TRAIN_X.BATCH_SIZE) is global: each process takes an equal
    part of it."""
    batch_size = cfg.DATALOADER.TRAIN_X.BATCH_SIZE
    if batch_size % processes:
        raise DistributedSetupError(
            f"DATALOADER.TRAIN_X.BATCH_SIZE {batch_size} (the global batch) is not divisible by "
            f"the {processes} processes: choose a batch size that is a multiple of "
            f"{processes}, or another --nproc_per_node."
        )


def all_sizes(count, device):
    """Every process's ``count``, in rank order."""
    local = torch.tensor([count], device=device)
    sizes = [torch.zeros_like(local) for _ in range(world_size())]
    dist.all_gather(sizes, local)
    return [int(size.item()) for size in sizes]


class _GatherRows(torch.autograd.Function):
    """Rows of every process, concatenated in rank order; the gradient flows back to each row's
    own process (summed over the processes whose outputs used it)."""

    @staticmethod
    def forward(ctx, tensor):
        sizes = all_sizes(tensor.shape[0], tensor.device)
        padded = tensor.new_zeros((max(sizes), *tensor.shape[1:]))  # all_gather needs one shape
        padded[: tensor.shape[0]] = tensor
        parts = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(parts, padded)
        ctx.sizes = sizes
        return torch.cat([part[:size] for part, size in zip(parts, sizes)])

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        start = sum(ctx.sizes[: rank()])
        return grad[start : start + ctx.sizes[rank()]]


def gather_rows(tensor):
    """``[n_r, ...]`` on each process -> ``[sum_r n_r, ...]``, differentiable."""
    return _GatherRows.apply(tensor)


def global_loss(loss, batch_size):
    """(loss to backpropagate, loss of the whole batch) for this process's ``loss`` (a mean over
    its ``batch_size`` images).

    The first is weighted by this process's share of the batch, so that the summed gradients are
    those of the whole batch's mean loss; the second is that mean loss, the same on every process
    (so every process sees a non-finite loss together).
    """
    totals = torch.stack([loss.detach().float() * batch_size, loss.new_tensor(batch_size).float()])
    totals = totals.to(collective_device())
    dist.all_reduce(totals)
    whole_batch_loss = (totals[0] / totals[1]).to(loss.device)
    return loss * (batch_size / totals[1].item()), whole_batch_loss


def sum_gradients(parameters):
    """Sum each trained parameter's gradient over the processes (in place).

    A parameter that has no gradient on every process keeps none, as in one process.
    """
    params = [param for param in parameters if param.requires_grad]
    if not params:
        return
    has_grad = torch.tensor(
        [float(param.grad is not None) for param in params], device=collective_device()
    )
    dist.all_reduce(has_grad, op=dist.ReduceOp.MAX)
    for param, flag in zip(params, has_grad.tolist()):
        if not flag:
            continue
        if param.grad is None:
            param.grad = torch.zeros_like(param)
        dist.all_reduce(param.grad)


def broadcast_state(module):
    """Every process takes the main process's parameters and buffers (in place)."""
    for tensor in module.state_dict().values():
        dist.broadcast(tensor, src=0)


class GatheredPredictions:
    """Collects this process's outputs and labels; ``finish`` hands every process's to the
    evaluator at once, each evaluated image exactly once."""

    def __init__(self, evaluator):
        self.evaluator = evaluator
        self.outputs, self.labels = [], []

    def process(self, output, label):
        self.outputs.append(output.float())
        self.labels.append(label)

    def finish(self, n_outputs):
        """``n_outputs``: the width of an output row (a process may have no batch at all)."""
        device = collective_device()
        outputs = torch.cat(self.outputs) if self.outputs else torch.zeros(0, n_outputs)
        labels = torch.cat(self.labels) if self.labels else torch.zeros(0, dtype=torch.long)
        with torch.no_grad():
            all_outputs = gather_rows(outputs.to(device))
            all_labels = gather_rows(labels.to(device))
        self.evaluator.process(all_outputs, all_labels)
