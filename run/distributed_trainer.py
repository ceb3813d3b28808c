"""The trainer hooks that run a Dassl trainer under torchrun; plain runs are unchanged.

``DistributedHooks`` sits between a method's trainer and Dassl's ``TrainerX`` (built-in subset
or a real Dassl): it splits the loaders' batches over the processes, sums the gradients before
each step, keeps the processes' weights equal, lets methods that couple the images of a batch
see the whole batch, gathers evaluation outputs, and leaves writing files to the main process.
"""

import contextlib

import torch.distributed as dist

from .distributed import (
    GatheredPredictions,
    all_sizes,
    broadcast_state,
    collective_device,
    gather_rows,
    global_loss,
    is_distributed,
    is_main_process,
    sum_gradients,
)
from .distributed_loading import distributed_loader, distributed_training_loader


class DistributedHooks:
    def distribute_data_loaders(self):
        if not is_distributed():
            return
        self.train_loader_x = distributed_training_loader(self.train_loader_x)
        if self.val_loader is not None:
            self.val_loader = distributed_loader(self.val_loader)
        self.test_loader = distributed_loader(self.test_loader)

    def save_model(self, *args, **kwargs):
        if is_main_process():
            super().save_model(*args, **kwargs)

    def wait_for_main_process(self):
        """After the main process's checkpoint writes, which the others may load next (the
        best model for TEST.FINAL_MODEL best_val)."""
        if is_distributed():
            dist.barrier()

    def init_writer(self, log_dir):
        if is_main_process():
            super().init_writer(log_dir)

    def before_train(self):
        super().before_train()  # resumes from the checkpoints, if any
        if is_distributed():
            for model in self._models.values():
                broadcast_state(model)
            self.model.gather_batch_with(gather_rows)

    def model_update(self, names=None):
        self.synchronize_gradients(names)
        super().model_update(names)

    def synchronize_gradients(self, names=None):
        if is_distributed():
            for name in self.get_model_names(names):
                sum_gradients(self._models[name].parameters())

    def loss_of_batch(self, loss, batch_size):
        """(loss to backpropagate, the whole batch's loss) of this process's mean ``loss``."""
        if not is_distributed():
            return loss, loss
        return global_loss(loss, batch_size)

    @contextlib.contextmanager
    def batch_coupling(self, data_loader, batch_index):
        """Within: a batch split over the processes is seen whole by methods that couple its
        images; the last, unshared batch of an evaluation is the main process's alone."""
        if not is_distributed():
            yield
            return
        shared = batch_index < data_loader.batch_sampler.shared_batches
        self.model.gather_batch_with(gather_rows if shared else None)
        try:
            yield
        finally:
            self.model.gather_batch_with(gather_rows)

    def prediction_collector(self):
        """Where evaluation outputs go: the evaluator, or every process's outputs gathered."""
        return GatheredPredictions(self.evaluator) if is_distributed() else self.evaluator

    def finish_predictions(self, collector, left_out):
        """Hand every process's outputs to the evaluator; returns how many images all processes
        left out (unreadable ones, DATALOADER.CORRUPT_IMAGE_POLICY skip)."""
        if collector is self.evaluator:
            return left_out
        collector.finish(n_outputs=len(self.dm.dataset.classnames))
        return sum(all_sizes(left_out, collective_device()))
