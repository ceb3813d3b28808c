"""The hand-crafted prompt of every dataset in every template table, as literal strings."""

import pytest

from prompting.templates import TEMPLATE_TABLES, check_template_table, hand_crafted_prompts
from run.user_errors import ConfigError

NAMES = ["sea_lion", "Apple Pie"]  # "_" reads as a space

# CoOp's table (the "coop" table), then each table's own prompts where they differ.
COOP_PROMPTS = {
    "OxfordPets": [
        "a photo of a sea lion, a type of pet.",
        "a photo of a Apple Pie, a type of pet.",
    ],
    "OxfordFlowers": [
        "a photo of a sea lion, a type of flower.",
        "a photo of a Apple Pie, a type of flower.",
    ],
    "FGVCAircraft": [
        "a photo of a sea lion, a type of aircraft.",
        "a photo of a Apple Pie, a type of aircraft.",
    ],
    "DescribableTextures": ["sea lion texture.", "Apple Pie texture."],
    "EuroSAT": [
        "a centered satellite photo of sea lion.",
        "a centered satellite photo of Apple Pie.",
    ],
    "StanfordCars": ["a photo of a sea lion.", "a photo of a Apple Pie."],
    "Food101": ["a photo of sea lion, a type of food.", "a photo of Apple Pie, a type of food."],
    "SUN397": ["a photo of a sea lion.", "a photo of a Apple Pie."],
    "Caltech101": ["a photo of a sea lion.", "a photo of a Apple Pie."],
    "UCF101": ["a photo of a person doing sea lion.", "a photo of a person doing Apple Pie."],
    "ImageNet": ["a photo of a sea lion.", "a photo of a Apple Pie."],
    "ImageNetSketch": ["a photo of a sea lion.", "a photo of a Apple Pie."],
    "ImageNetV2": ["a photo of a sea lion.", "a photo of a Apple Pie."],
    "ImageNetA": ["a photo of a sea lion.", "a photo of a Apple Pie."],
    "ImageNetR": ["a photo of a sea lion.", "a photo of a Apple Pie."],
}
TEXTURE = [
    "a photo of a sea lion, a type of texture.",
    "a photo of a Apple Pie, a type of texture.",
]
EXPECTED = {
    "coop": COOP_PROMPTS,
    "kgcoop": dict(COOP_PROMPTS, DescribableTextures=TEXTURE),
    "sep_reference": dict(
        COOP_PROMPTS,
        FGVCAircraft=["a photo of an aircraft sea lion.", "a photo of an aircraft Apple Pie."],
        DescribableTextures=TEXTURE,
        StanfordCars=[
            "a photo of a sea lion, a type of car.",
            "a photo of a Apple Pie, a type of car.",
        ],
        Food101=[
            "a photo of a sea lion, a type of food.",
            "a photo of a Apple Pie, a type of food.",
        ],
    ),
    "prograd": dict(
        COOP_PROMPTS,
        OxfordPets=[
            "a type of pet, a photo of a sea lion.",
            "a type of pet, a photo of a Apple Pie.",
        ],
        OxfordFlowers=[
            "a type of flower, a photo of a sea lion.",
            "a type of flower, a photo of a Apple Pie.",
        ],
        FGVCAircraft=[
            "a type of aircraft, a photo of a sea lion.",
            "a type of aircraft, a photo of a Apple Pie.",
        ],
        DescribableTextures=["a texture of sea lion.", "a texture of Apple Pie."],
        Food101=["a type of food, a photo of sea lion.", "a type of food, a photo of Apple Pie."],
    ),
    "tcp": dict(
        COOP_PROMPTS,
        FGVCAircraft=["a photo of an aircraft sea lion.", "a photo of an aircraft Apple Pie."],
        DescribableTextures=TEXTURE,
        Food101=[
            "a photo of a sea lion, a type of food.",
            "a photo of a Apple Pie, a type of food.",
        ],
    ),
}


def test_every_table_is_listed():
    assert set(TEMPLATE_TABLES) == set(EXPECTED)


@pytest.mark.parametrize("table", sorted(EXPECTED))
@pytest.mark.parametrize("dataset", sorted(COOP_PROMPTS))
def test_prompts_of_each_dataset_and_table(table, dataset):
    assert hand_crafted_prompts(dataset, NAMES, table) == EXPECTED[table][dataset]


def test_coop_is_the_default_table():
    assert hand_crafted_prompts("DescribableTextures", NAMES) == [
        "sea lion texture.",
        "Apple Pie texture.",
    ]


def test_a_dataset_outside_the_table_gets_the_generic_template():
    assert hand_crafted_prompts("MyDataset", NAMES, "sep_reference") == [
        "a photo of a sea lion.",
        "a photo of a Apple Pie.",
    ]


def test_unknown_table_is_a_config_error():
    with pytest.raises(ConfigError, match="TRAINER.SEP.TEMPLATES.*sep_reference"):
        check_template_table("paper", "TRAINER.SEP.TEMPLATES")
