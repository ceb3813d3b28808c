"""SEP's prototype classifier starts from every training image, even in 1-shot runs."""

import pytest
import torch
import torchvision.transforms as T
from clip.model import build_model
from PIL import Image

from tests.tolerances import assert_close_in_norm, fp32_rtol, fp32_sum_rtol, image_encoder_size
from tests.trainers.helpers import make_trainer

# CLIP's pixel statistics (Dassl's INPUT.PIXEL_MEAN / PIXEL_STD in the CoOp-family configs)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


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


@pytest.mark.numerical
def test_prototypes_are_normalised_class_means_of_frozen_clip_features_of_every_image(
    toy, tmp_path
):
    """With a deterministic training transform (resize + normalise), the prototypes equal the
    class means computed here from the image files and an independently loaded CLIP."""
    trainer = make_trainer("SEP", toy, tmp_path, "INPUT.TRANSFORMS", ("normalize",))
    trainer.initialize_prototypes()
    prototypes = trainer.model.learnable.prototype.weight

    clip_model = build_model(
        torch.load(toy.tiny_clip_path, weights_only=True)["state_dict"]
    ).float()
    preprocess = T.Compose(
        [
            T.Resize((32, 32), interpolation=T.InterpolationMode.BICUBIC),
            T.ToTensor(),
            T.Normalize(CLIP_MEAN, CLIP_STD),
        ]
    )
    sums = torch.zeros_like(prototypes)
    for item in trainer.dm.dataset.train_x:
        image = preprocess(Image.open(item.impath).convert("RGB")).unsqueeze(0)
        with torch.no_grad():
            feature = clip_model.encode_image(image)[0]
        sums[item.label] += feature / feature.norm()
    expected = sums / sums.norm(dim=-1, keepdim=True)
    # two fp32 image encoder passes per image, then two orderings of a sum over the images
    rtol = fp32_rtol(*image_encoder_size(clip_model)) + fp32_sum_rtol(
        len(trainer.dm.dataset.train_x)
    )
    assert_close_in_norm(prototypes.detach(), expected, rtol)
