"""SEP's prototype classifier starts from every training image, even in 1-shot runs."""

import torch

from tests.trainers.helpers import make_trainer


def test_one_shot_prototypes_cover_classes_the_training_loader_drops(toy, tmp_path):
    trainer = make_trainer(
        "SEP", toy, tmp_path, "DATASET.NUM_SHOTS", 1, "DATALOADER.TRAIN_X.BATCH_SIZE", 2
    )
    n_classes = trainer.dm.num_classes
    seen_by_training_loader = sum(len(batch["label"]) for batch in trainer.train_loader_x)
    assert seen_by_training_loader < n_classes  # the last partial batch is dropped
    trainer.initialize_prototypes()
    prototypes = trainer.model.learnable.prototype.weight
    torch.testing.assert_close(prototypes.norm(dim=-1), torch.ones(n_classes))
    assert torch.linalg.matrix_rank(prototypes) == n_classes
