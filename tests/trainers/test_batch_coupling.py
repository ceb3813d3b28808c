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
