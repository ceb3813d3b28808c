"""The CoOp-ecosystem datasets; importing this package registers them in DATASET_REGISTRY."""

import dassl_setup  # noqa: F401  (must precede every `import dassl`)

from . import (  # noqa: F401  (imported to register)
    caltech101,
    dtd,
    eurosat,
    fgvc_aircraft,
    food101,
    image_folder,
    imagenet,
    imagenet_a,
    imagenet_r,
    imagenet_sketch,
    imagenetv2,
    oxford_flowers,
    oxford_pets,
    stanford_cars,
    sun397,
    ucf101,
    world_noise,
    world_outline,
    world_photo,
    world_tint,
)
