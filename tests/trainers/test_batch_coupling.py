"""What each trainer declares about batch coupling is what its model does: the declaration read
from the config equals the built model's, and an image's logits change with the other images of
its batch exactly when the model names something that couples them."""

import pytest
import torch

import trainers
from tests.tolerances import assert_close_in_norm, clip_size, fp32_rtol, relative_error
from tests.trainers.helpers import (
    BATCH_COUPLED_METHODS,
    TRAINED_METHODS,
    fixed_batch,
    make_trainer,
)

# one method whose images are independent and one whose batch is coupled stay in the fast set
FAST = {next(name for name in TRAINED_METHODS if name not in BATCH_COUPLED_METHODS)}
FAST |= set(BATCH_COUPLED_METHODS[:1])


def method_cases(names):
    return [pytest.param(name, marks=() if name in FAST else pytest.mark.slow) for name in names]


def logits_from_loaded_tensors(model, images, loaded):
    """Logits of ``images`` from the learned tensors as built (a forward pass may move them)."""
    model.learnable.load_state_dict(loaded)
    with torch.no_grad(), model.cached_text_features():
        return model(images)


@pytest.mark.parametrize("trainer_name", method_cases(TRAINED_METHODS))
def test_declared_coupling_is_the_models_and_decides_whether_a_batch_is_coupled(
    trainer_name, toy, tmp_path, tiny_clip
):
    trainer = make_trainer(trainer_name, toy, tmp_path)
    model, declared = trainer.model, trainers.trainer_class(trainer_name)
    assert model.batch_coupling == declared.image_batch_coupling(trainer.cfg)
    assert model.forward_moves_learnable == declared.forward_moves_learnable(trainer.cfg)
    assert all(isinstance(cause, str) and cause for cause in model.batch_coupling)

    model.eval()
    images, _ = fixed_batch(trainer)  # [4, 3, H, W]
    loaded = {key: value.clone() for key, value in model.learnable.state_dict().items()}
    whole = logits_from_loaded_tensors(model, images, loaded)
    halves = torch.cat(
        [logits_from_loaded_tensors(model, half, loaded) for half in images.split(2)]
    )
    # Independent images: the halves differ from the whole batch by the rounding of the matrix
    # products only, one fp32 forward pass through both encoders each way.
    rtol = fp32_rtol(*clip_size(tiny_clip))
    if model.couples_batch_images:
        assert relative_error(halves, whole) > 100 * rtol, "declared coupled, but is not"
    else:
        assert_close_in_norm(halves, whole, rtol, f"{trainer_name}: halves vs the whole batch")


@pytest.mark.parametrize(
    "trainer_name",
    method_cases(
        [name for name in TRAINED_METHODS if trainers.trainer_class(name).PER_IMAGE_OPTIONS]
    ),
)
def test_per_image_options_leave_nothing_coupled_or_moving(trainer_name, toy, tmp_path):
    declared = trainers.trainer_class(trainer_name)
    trainer = make_trainer(trainer_name, toy, tmp_path, *declared.PER_IMAGE_OPTIONS)
    assert not trainer.model.couples_batch_images
    assert not trainer.model.forward_moves_learnable


def step_gradients(trainer, images, labels, loaded):
    """The gradients one training step of ``trainer`` applies to the learned tensors as built,
    computed on these images only (the optimiser does not move them; a forward pass may, so they
    are loaded first). A tensor no gradient reaches counts as zeros."""
    learnable = trainer.model.learnable
    learnable.load_state_dict(loaded)
    trainer.set_model_mode("train")
    trainer.batch_idx, trainer.num_batches = 0, 2  # never the epoch's last batch
    trainer.optim.step = lambda *args, **kwargs: None
    trainer.forward_backward({"img": images, "label": labels})
    return torch.cat(
        [
            (torch.zeros_like(p) if p.grad is None else p.grad).flatten()
            for p in learnable.parameters()
        ]
    )


@pytest.mark.parametrize(
    "trainer_name",
    method_cases([name for name in TRAINED_METHODS if name not in BATCH_COUPLED_METHODS]),
)
def test_a_step_is_the_mean_of_its_images_unless_the_trainer_declares_a_coupling(
    trainer_name, toy, tmp_path, tiny_clip
):
    """A loss that is a mean over independent images has a gradient that is the mean of its
    halves' gradients; a training step that needs the whole batch (``TRAINING_STEP_COUPLING``)
    does not."""
    trainer = make_trainer(trainer_name, toy, tmp_path)
    images, labels = fixed_batch(trainer)  # [4, 3, H, W]
    loaded = {key: value.clone() for key, value in trainer.model.learnable.state_dict().items()}
    whole = step_gradients(trainer, images, labels, loaded)
    halves = [
        step_gradients(trainer, *half, loaded) for half in zip(images.split(2), labels.split(2))
    ]
    mean_of_halves = (halves[0] + halves[1]) / 2
    # a backward pass rounds about as often as its forward pass: twice the forward's bound
    rtol = 2 * fp32_rtol(*clip_size(tiny_clip))
    if trainers.trainer_class(trainer_name).TRAINING_STEP_COUPLING:
        assert relative_error(mean_of_halves, whole) > 100 * rtol, "declared coupled, but is not"
    else:
        assert_close_in_norm(mean_of_halves, whole, rtol, f"{trainer_name}: step gradients")
