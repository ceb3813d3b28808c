"""Minimal fake copies of the 15 CoOp datasets in their real layouts, and the cfg to read them.

Each writer puts a handful of 8x8 JPEGs and the split / annotation files, in the real formats, under
``root`` and returns what a correct reader must produce, down to each item: its path relative to
the dataset folder, its label and its class name.
"""

import io
import json
import os
from dataclasses import dataclass

from PIL import Image

from run.config import project_cfg_default

WNIDS = [
    ("n01440764", "tench"),
    ("n01443537", "goldfish"),
    ("n01484850", "great white shark"),
    ("n01491361", "tiger shark"),
]
# ImageNetV2 names its class folders by label: more than ten, so "10" sorts before "2" as text.
NUMBERED_CLASSES = WNIDS + [
    (f"n0150{index:04d}", f"class number {index}") for index in range(4, 12)
]


@dataclass
class FakeLayout:
    name: str  # registry name
    dataset_dir: str
    classnames: list  # by label
    num_train: int
    num_val: int | None  # None: the dataset has no val list
    num_test: int
    fewshot: bool  # whether NUM_SHOTS and SUBSAMPLE_CLASSES apply
    # split ("train", "val", "test") -> [(path relative to dataset_dir, label, class name)]
    items: dict


def dataset_cfg(root, name, num_shots=-1, seed=1, subsample="all", fewer_shots_policy="error"):
    cfg = project_cfg_default()  # Dassl's defaults plus the project's keys, as train.py uses
    cfg.DATASET.SUBSAMPLE_CLASSES = subsample
    cfg.DATASET.FEWER_SHOTS_POLICY = fewer_shots_policy
    cfg.DATASET.ROOT = str(root)
    cfg.DATASET.NAME = name
    cfg.DATASET.NUM_SHOTS = num_shots
    cfg.SEED = seed
    return cfg


_JPEG = []


def write_jpeg(path):
    if not _JPEG:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), (120, 30, 200)).save(buffer, format="JPEG")
        _JPEG.append(buffer.getvalue())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(_JPEG[0])


def write_text(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as file:
        file.write("".join(f"{line}\n" for line in lines))


# Images per class in train / val / test for the split_zhou datasets.
PER_SPLIT = {"train": 3, "val": 2, "test": 1}


def write_zhou_layout(root, name, folder, image_subdir, split_file, classes):
    """``classes``: [(class name, relative path pattern with {i} and optionally {part})]."""
    dataset_dir = os.path.join(root, folder)
    image_dir = os.path.join(dataset_dir, image_subdir) if image_subdir else dataset_dir
    split = {key: [] for key in PER_SPLIT}
    items = {key: [] for key in PER_SPLIT}
    index = 0
    for label, (classname, pattern) in enumerate(classes):
        for key, count in PER_SPLIT.items():
            for _ in range(count):
                index += 1
                relpath = pattern.format(i=index, part="test" if key == "test" else "train")
                write_jpeg(os.path.join(image_dir, relpath))
                split[key].append([relpath, label, classname])
                items[key].append((os.path.join(image_subdir, relpath), label, classname))
    with open(os.path.join(dataset_dir, split_file), "w") as file:
        json.dump(split, file)
    num_classes = len(classes)
    return FakeLayout(
        name,
        dataset_dir,
        [classname for classname, _ in classes],
        PER_SPLIT["train"] * num_classes,
        PER_SPLIT["val"] * num_classes,
        PER_SPLIT["test"] * num_classes,
        fewshot=True,
        items=items,
    )


def write_caltech101(root):
    layout = write_zhou_layout(
        root,
        "Caltech101",
        "caltech-101",
        "101_ObjectCategories",
        "split_zhou_Caltech101.json",
        [
            ("face", "Faces/image_{i:04d}.jpg"),
            ("leopard", "Leopards/image_{i:04d}.jpg"),
            ("accordion", "accordion/image_{i:04d}.jpg"),
            ("airplane", "airplanes/image_{i:04d}.jpg"),
        ],
    )
    # Present on disk but not in the split: must not be read.
    write_jpeg(
        os.path.join(
            layout.dataset_dir, "101_ObjectCategories", "BACKGROUND_Google", "image_0001.jpg"
        )
    )
    return layout


def write_oxford_pets(root):
    os.makedirs(os.path.join(root, "oxford_pets", "annotations"), exist_ok=True)
    return write_zhou_layout(
        root,
        "OxfordPets",
        "oxford_pets",
        "images",
        "split_zhou_OxfordPets.json",
        [
            ("abyssinian", "Abyssinian_{i}.jpg"),
            ("american_bulldog", "american_bulldog_{i}.jpg"),
            ("basset_hound", "basset_hound_{i}.jpg"),
            ("bengal", "Bengal_{i}.jpg"),
        ],
    )


def write_stanford_cars(root):
    return write_zhou_layout(
        root,
        "StanfordCars",
        "stanford_cars",
        "",
        "split_zhou_StanfordCars.json",
        [
            ("2000 AM General Hummer SUV", "cars_{part}/{i:05d}.jpg"),
            ("2012 Acura RL Sedan", "cars_{part}/{i:05d}.jpg"),
            ("2012 Tesla Model S Sedan", "cars_{part}/{i:05d}.jpg"),
            ("2012 smart fortwo Convertible", "cars_{part}/{i:05d}.jpg"),
        ],
    )


def write_oxford_flowers(root):
    return write_zhou_layout(
        root,
        "OxfordFlowers",
        "oxford_flowers",
        "jpg",
        "split_zhou_OxfordFlowers.json",
        [
            ("pink primrose", "image_{i:05d}.jpg"),
            ("hard-leaved pocket orchid", "image_{i:05d}.jpg"),
            ("canterbury bells", "image_{i:05d}.jpg"),
            ("sweet pea", "image_{i:05d}.jpg"),
        ],
    )


def write_food101(root):
    return write_zhou_layout(
        root,
        "Food101",
        "food-101",
        "images",
        "split_zhou_Food101.json",
        [
            ("apple_pie", "apple_pie/{i}.jpg"),
            ("baby_back_ribs", "baby_back_ribs/{i}.jpg"),
            ("baklava", "baklava/{i}.jpg"),
            ("beef_carpaccio", "beef_carpaccio/{i}.jpg"),
        ],
    )


def write_sun397(root):
    return write_zhou_layout(
        root,
        "SUN397",
        "sun397",
        "SUN397",
        "split_zhou_SUN397.json",
        [
            ("abbey", "a/abbey/sun_{i:06d}.jpg"),
            ("airplane_cabin", "a/airplane_cabin/sun_{i:06d}.jpg"),
            ("indoor apse", "a/apse/indoor/sun_{i:06d}.jpg"),
            ("shop bakery", "b/bakery/shop/sun_{i:06d}.jpg"),
        ],
    )


def write_dtd(root):
    return write_zhou_layout(
        root,
        "DescribableTextures",
        "dtd",
        "images",
        "split_zhou_DescribableTextures.json",
        [
            ("banded", "banded/banded_{i:04d}.jpg"),
            ("blotchy", "blotchy/blotchy_{i:04d}.jpg"),
            ("braided", "braided/braided_{i:04d}.jpg"),
            ("bubbly", "bubbly/bubbly_{i:04d}.jpg"),
        ],
    )


def write_eurosat(root):
    return write_zhou_layout(
        root,
        "EuroSAT",
        "eurosat",
        "2750",
        "split_zhou_EuroSAT.json",
        [
            ("Annual Crop Land", "AnnualCrop/AnnualCrop_{i}.jpg"),
            ("Forest", "Forest/Forest_{i}.jpg"),
            ("Herbaceous Vegetation Land", "HerbaceousVegetation/HerbaceousVegetation_{i}.jpg"),
            ("Highway or Road", "Highway/Highway_{i}.jpg"),
        ],
    )


def write_ucf101(root):
    return write_zhou_layout(
        root,
        "UCF101",
        "ucf101",
        "UCF-101-midframes",
        "split_zhou_UCF101.json",
        [
            ("Apply_Eye_Makeup", "Apply_Eye_Makeup/v_ApplyEyeMakeup_g{i:02d}_c01.jpg"),
            ("Apply_Lipstick", "Apply_Lipstick/v_ApplyLipstick_g{i:02d}_c01.jpg"),
            ("Archery", "Archery/v_Archery_g{i:02d}_c01.jpg"),
            ("Baby_Crawling", "Baby_Crawling/v_BabyCrawling_g{i:02d}_c01.jpg"),
        ],
    )


FGVC_VARIANTS = ["707-320", "727-200", "A300B4", "Cessna 172"]


def write_fgvc_aircraft(root):
    dataset_dir = os.path.join(root, "fgvc_aircraft")
    write_text(os.path.join(dataset_dir, "variants.txt"), FGVC_VARIANTS)
    image_id = 1000000
    items = {}
    for split, count in PER_SPLIT.items():
        lines, items[split] = [], []
        for label, variant in enumerate(FGVC_VARIANTS):
            for _ in range(count):
                image_id += 1
                write_jpeg(os.path.join(dataset_dir, "images", f"{image_id:07d}.jpg"))
                lines.append(f"{image_id:07d} {variant}")
                items[split].append((f"images/{image_id:07d}.jpg", label, variant))
        write_text(os.path.join(dataset_dir, f"images_variant_{split}.txt"), lines)
    return FakeLayout(
        "FGVCAircraft",
        dataset_dir,
        list(FGVC_VARIANTS),
        PER_SPLIT["train"] * 4,
        PER_SPLIT["val"] * 4,
        PER_SPLIT["test"] * 4,
        fewshot=True,
        items=items,
    )


def write_classnames(dataset_dir, classes=WNIDS):
    write_text(
        os.path.join(dataset_dir, "classnames.txt"), [f"{wnid} {name}" for wnid, name in classes]
    )


def write_imagenet(root):
    dataset_dir = os.path.join(root, "imagenet")
    write_classnames(dataset_dir)
    train, test = [], []
    for index, (wnid, name) in enumerate(WNIDS):
        for image in range(3):
            relpath = f"images/train/{wnid}/{wnid}_{image}.JPEG"
            write_jpeg(os.path.join(dataset_dir, relpath))
            train.append((relpath, index, name))
        relpath = f"images/val/{wnid}/ILSVRC2012_val_{index + 1:08d}.JPEG"
        write_jpeg(os.path.join(dataset_dir, relpath))
        test.append((relpath, index, name))
    # ImageNet's val list doubles as val and test.
    return FakeLayout(
        "ImageNet",
        dataset_dir,
        [name for _, name in WNIDS],
        12,
        4,
        4,
        fewshot=True,
        items={"train": train, "val": test, "test": test},
    )


def write_variant(name, dataset_dir, classes, relpath):
    """A test-only ImageNet variant, two images per class: ``classes`` [(label, class name,
    folder)], ``relpath(folder, image)`` the path of image 0 or 1 in the dataset folder."""
    items = []
    for label, classname, folder in classes:
        for image in range(2):
            path = relpath(folder, image)
            write_jpeg(os.path.join(dataset_dir, path))
            items.append((path, label, classname))
    count = len(items)
    return FakeLayout(
        name,
        dataset_dir,
        [classname for _, classname, _ in classes],
        count,
        None,
        count,
        fewshot=False,
        items={"train": items, "val": None, "test": items},  # every image is both
    )


def write_imagenetv2(root):
    dataset_dir = os.path.join(root, "imagenetv2")
    write_classnames(dataset_dir, NUMBERED_CLASSES)
    return write_variant(
        "ImageNetV2",
        dataset_dir,
        [(label, name, str(label)) for label, (_, name) in enumerate(NUMBERED_CLASSES)],
        lambda folder, image: (
            f"imagenetv2-matched-frequency-format-val/{folder}/{folder}{image}abc.jpeg"
        ),
    )


def write_imagenet_sketch(root):
    dataset_dir = os.path.join(root, "imagenet-sketch")
    write_classnames(dataset_dir)
    return write_variant(
        "ImageNetSketch",
        dataset_dir,
        [(label, name, wnid) for label, (wnid, name) in enumerate(WNIDS)],
        lambda folder, image: f"images/{folder}/sketch_{image}.JPEG",
    )


def write_subset_variant(root, name, folder, image_subdir, present):
    """ImageNet-A/R: classnames.txt lists all classes, only ``present`` wnid folders exist."""
    dataset_dir = os.path.join(root, folder)
    write_classnames(dataset_dir)
    write_text(os.path.join(dataset_dir, image_subdir, "README.txt"), ["not a class"])
    classes = [
        (label, WNIDS[index][1], WNIDS[index][0]) for label, index in enumerate(sorted(present))
    ]
    return write_variant(
        name, dataset_dir, classes, lambda wnid, image: f"{image_subdir}/{wnid}/{image}.jpg"
    )


def write_imagenet_a(root):
    return write_subset_variant(root, "ImageNetA", "imagenet-adversarial", "imagenet-a", [1, 3])


def write_imagenet_r(root):
    return write_subset_variant(root, "ImageNetR", "imagenet-rendition", "imagenet-r", [0, 2])


FAKE_LAYOUTS = {
    "Caltech101": write_caltech101,
    "OxfordPets": write_oxford_pets,
    "StanfordCars": write_stanford_cars,
    "OxfordFlowers": write_oxford_flowers,
    "Food101": write_food101,
    "FGVCAircraft": write_fgvc_aircraft,
    "SUN397": write_sun397,
    "DescribableTextures": write_dtd,
    "EuroSAT": write_eurosat,
    "UCF101": write_ucf101,
    "ImageNet": write_imagenet,
    "ImageNetV2": write_imagenetv2,
    "ImageNetSketch": write_imagenet_sketch,
    "ImageNetA": write_imagenet_a,
    "ImageNetR": write_imagenet_r,
}

SPLIT_FILE_DATASETS = {
    "Caltech101": "split_zhou_Caltech101.json",
    "OxfordPets": "split_zhou_OxfordPets.json",
    "StanfordCars": "split_zhou_StanfordCars.json",
    "OxfordFlowers": "split_zhou_OxfordFlowers.json",
    "Food101": "split_zhou_Food101.json",
    "SUN397": "split_zhou_SUN397.json",
    "DescribableTextures": "split_zhou_DescribableTextures.json",
    "EuroSAT": "split_zhou_EuroSAT.json",
    "UCF101": "split_zhou_UCF101.json",
}
