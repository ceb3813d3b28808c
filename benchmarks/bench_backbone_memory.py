"""Memory of one training step of a prompted model on OpenCLIP ViT-L/14 relative to ViT-B/16.

Both backbones are OpenCLIP models with random weights and their real shapes (no download);
the method's model comes from its trainer's ``build_custom_clip`` with its published config
(``benchmarks/method_models.py``). Counted in bytes, the same on any machine:

- ``frozen``: CLIP's weights, fp32 (a CPU runs ``PREC fp16`` in fp32 too);
- ``learned``: the method's parameters, their gradients and the optimiser's state after a step;
- ``activations``: the tensors autograd keeps from the forward pass for the backward pass
  (``torch.autograd.graph.saved_tensors_hooks``, each storage once, CLIP's weights excluded).

    python benchmarks/bench_backbone_memory.py --method SEP --classes 10 --batch 4
"""

import argparse
import contextlib
import io
import json
import os
import sys

import torch

if __package__ in (None, ""):  # run as a script: make `benchmarks.` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


from benchmarks.method_models import (  # noqa: E402
    ARCHITECTURES,
    build_method,
    imagenet_classnames,
    method_cfg,
)
from prompting.prompted_clip import total_loss  # noqa: E402
from tools.make_tiny_openclip import build_tiny_openclip  # noqa: E402
from trainers.sep import SEP  # noqa: E402

MIB = 2**20
COMPARED = ("vit_b16", "vit_l14")


def storage_bytes(tensors, excluded=frozenset()):
    """Bytes of the distinct storages behind ``tensors``, those in ``excluded`` left out."""
    storages = {}
    for tensor in tensors:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in excluded:
            storages[storage.data_ptr()] = storage.nbytes()
    return sum(storages.values())


def step_memory(method, arch, n_classes, batch):
    """Bytes of ``method``'s fp32 training step on an OpenCLIP model of ``arch``'s shapes."""
    clip_model = build_tiny_openclip(seed=0, **ARCHITECTURES[arch]).requires_grad_(False)
    cfg = method_cfg(method, arch, "fp32")
    classnames = imagenet_classnames(n_classes)
    with contextlib.redirect_stdout(io.StringIO()):
        built = build_method(method, cfg, classnames, clip_model, torch.device("cpu"))
    frozen_pointers = {p.untyped_storage().data_ptr() for p in clip_model.parameters()}
    resolution = ARCHITECTURES[arch]["image_resolution"]
    images = torch.randn(batch, 3, resolution, resolution)
    labels = torch.arange(batch) % n_classes
    saved = []

    def keep(tensor):
        saved.append(tensor)
        return tensor

    built.model.learnable.train()
    with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
        with built.autocast():
            _, terms = built.model.training_loss(images, labels)
    activations = storage_bytes(saved, frozen_pointers)
    saved.clear()
    total_loss(terms).backward()
    built.optimizer.step()
    learnable = list(built.model.learnable.parameters())
    optimizer_state = [
        value
        for state in built.optimizer.state.values()
        for value in state.values()
        if torch.is_tensor(value)
    ]
    grads = [p.grad for p in learnable if p.grad is not None]
    return {
        "frozen_mib": storage_bytes(clip_model.parameters()) / MIB,
        "learned_mib": storage_bytes([*learnable, *grads, *optimizer_state]) / MIB,
        "activations_mib": activations / MIB,
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default=SEP.__name__)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--json", help="also write the figures here")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(0)
    rows = {arch: step_memory(args.method, arch, args.classes, args.batch) for arch in COMPARED}
    for row in rows.values():
        row["total_mib"] = row["frozen_mib"] + row["learned_mib"] + row["activations_mib"]
    base, large = (rows[arch] for arch in COMPARED)
    ratios = {key.replace("_mib", "_ratio"): large[key] / base[key] for key in base}
    print(f"{args.method}, {args.classes} classes, batch {args.batch}, fp32: MiB per training step")
    print(f"{'':10}{'frozen':>10}{'learned':>10}{'activations':>13}{'total':>10}")
    for arch, row in rows.items():
        print(
            f"{arch:10}{row['frozen_mib']:10.1f}{row['learned_mib']:10.2f}"
            f"{row['activations_mib']:13.1f}{row['total_mib']:10.1f}"
        )
    print(
        "ViT-L/14 / ViT-B/16: "
        + ", ".join(f"{key.replace('_ratio', '')} {value:.2f}x" for key, value in ratios.items())
    )
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"args": vars(args), "rows": rows, "ratios": ratios}, file, indent=2)
    return rows, ratios


if __name__ == "__main__":
    main()
