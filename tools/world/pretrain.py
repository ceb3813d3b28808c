"""Contrastive CLIP pretraining on the world, from scratch, with the real ``clip.model.CLIP``.

The model has a ViT image encoder and a text transformer of 4 blocks each (so token fusion and
layer options mean something) and keeps CLIP's 49408-token vocabulary and 77-token context, so
the checkpoint is an ordinary CLIP state_dict. Widths are small: the token embedding dominates.
"""

import contextlib
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from clip.model import CLIP, convert_weights
from tqdm import tqdm

from prompting.text_encoder import TextEncoder, tokenize

from . import vocabulary
from .render import render
from .scenes import SceneSampler

CLIP_PIXEL_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_PIXEL_STD = (0.26862954, 0.26130258, 0.27577711)
ZERO_SHOT_TEMPLATE = "a photo of a {}."  # the generic template the zero-shot trainer uses


@dataclass(frozen=True)
class PretrainConfig:
    embed_dim: int = 64
    image_resolution: int = 32
    vision_layers: int = 4
    vision_width: int = 64  # CLIP derives heads as width // 64: 1 here
    vision_patch_size: int = 4  # 8 x 8 patches: with 4 x 4 of 8 px, shapes were barely learnt
    transformer_width: int = 64  # 1 head; 49408 x 64 token embedding (3.2M of 3.9M weights)
    transformer_layers: int = 4
    # Shapes are learnt late: zero-shot top-1 (seed 0) was 60% after 600 of these steps, 91%
    # after 900 and 97% after 1500, where the loss has levelled off; 1200 steps ended at 93%.
    steps: int = 1500
    batch_size: int = 128
    # At 3e-3 the image encoder's attention turned peaky within 200 steps, while the model knew
    # only colours, in 2 of 3 seeds, and those runs learnt shapes late or never (79.5% and
    # 90.0%); at 2e-3 the attention stays spread, and seeds 0-4 each reached 96.8-98.2%
    # (tools/world/pretraining_results.md).
    lr: float = 2e-3
    warmup_steps: int = 30
    weight_decay: float = 0.05
    # Fixed, as float results depend on how work is split. Two, one per core of the target
    # machine: 1.5x faster than one when the machine is otherwise idle (pretraining runs alone
    # in the demo, the benchmark and CI); on a busy machine two threads mostly wait.
    threads: int = 2
    seed: int = 0

    def architecture(self):
        return dict(
            embed_dim=self.embed_dim,
            image_resolution=self.image_resolution,
            vision_layers=self.vision_layers,
            vision_width=self.vision_width,
            vision_patch_size=self.vision_patch_size,
            context_length=77,
            vocab_size=49408,
            transformer_width=self.transformer_width,
            transformer_heads=self.transformer_width // 64,
            transformer_layers=self.transformer_layers,
        )

    def as_dict(self):
        return asdict(self)


DEFAULT_CONFIG = PretrainConfig()


def normalize_pixels(images):
    mean = torch.tensor(CLIP_PIXEL_MEAN)[None, :, None, None]
    std = torch.tensor(CLIP_PIXEL_STD)[None, :, None, None]
    return (images - mean) / std


@contextlib.contextmanager
def deterministic_torch(threads):
    """Fixed thread count and deterministic kernels inside, the caller's settings restored after."""
    old_threads = torch.get_num_threads()
    old_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_deterministic)


def soft_cross_entropy(logits, targets):
    """Cross-entropy against the row-normalised 0/1 ``targets`` (several captions can fit)."""
    targets = targets / targets.sum(dim=1, keepdim=True)
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def parameter_groups(model, weight_decay):
    """Weight decay on matrices only; never on the token embedding, whose unused rows keep init."""
    decayed, plain = [], []
    for name, parameter in model.named_parameters():
        if parameter.ndim >= 2 and name != "token_embedding.weight":
            decayed.append(parameter)
        else:
            plain.append(parameter)
    return [
        {"params": decayed, "weight_decay": weight_decay},
        {"params": plain, "weight_decay": 0.0},
    ]


def learning_rate(step, config):
    """Linear warm-up, then cosine decay to zero."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(config.steps - config.warmup_steps, 1)
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def pretrain(config=DEFAULT_CONFIG, progress=True):
    """A CLIP trained on the world: fp16 weights, as ``clip.model.build_model`` makes them."""
    with deterministic_torch(config.threads):
        torch.manual_seed(config.seed)
        model = CLIP(**config.architecture())
        text_encoder = TextEncoder(model)
        model.requires_grad_(True)  # TextEncoder freezes CLIP's text side for prompt tuning
        sampler = SceneSampler(tokenize)
        generator = torch.Generator().manual_seed(config.seed)
        optimizer = torch.optim.AdamW(parameter_groups(model, config.weight_decay), lr=config.lr)
        model.train()
        bar = tqdm(range(config.steps), desc="pretraining world CLIP", disable=not progress)
        for step in bar:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, config)
            images, tokens, targets, *_ = sampler.sample(
                config.batch_size, generator, config.image_resolution
            )
            image_features = F.normalize(model.encode_image(normalize_pixels(images)), dim=-1)
            text_features = F.normalize(text_encoder(model.token_embedding(tokens), tokens), dim=-1)
            logits = model.logit_scale.exp() * image_features @ text_features.T  # [B, B]
            loss = (
                soft_cross_entropy(logits, targets) + soft_cross_entropy(logits.T, targets.T)
            ) / 2
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0.0, math.log(100.0))
            bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    convert_weights(model)
    return model


@torch.no_grad()
def zero_shot_accuracy(clip_model, style="photo", per_class=50, seed=12345, classes=None):
    """Top-1 of ``clip_model`` (any dtype) over ``classes`` (default all) on fresh images of
    ``style``, with the zero-shot template; returns (accuracy in %, chance in %)."""
    names = vocabulary.class_names()
    classes = list(range(len(names))) if classes is None else list(classes)
    dtype = clip_model.visual.conv1.weight.dtype
    prompts = [ZERO_SHOT_TEMPLATE.format(names[index]) for index in classes]
    text = F.normalize(clip_model.encode_text(tokenize(prompts)).float(), dim=-1)
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(len(classes)).repeat_interleave(per_class)
    class_ids = torch.tensor(classes)[labels]
    colours, shapes = class_ids // len(vocabulary.SHAPES), class_ids % len(vocabulary.SHAPES)
    sizes = torch.randint(len(vocabulary.SIZES), (len(labels),), generator=generator)
    resolution = clip_model.visual.input_resolution
    correct = 0
    for start in range(0, len(labels), 500):
        part = slice(start, start + 500)
        images = render(colours[part], shapes[part], sizes[part], generator, style, resolution)
        features = clip_model.encode_image(normalize_pixels(images).type(dtype)).float()
        predictions = (F.normalize(features, dim=-1) @ text.T).argmax(dim=-1)
        correct += int((predictions == labels[part]).sum())
    return 100.0 * correct / len(labels), 100.0 / len(classes)
