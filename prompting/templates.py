"""Hand-crafted prompt per dataset: the CoOp/KgCoOp template table, shared by every method."""

from run.user_errors import ConfigError

HAND_CRAFTED_TEMPLATES = {
    "OxfordPets": "a photo of a {}, a type of pet.",
    "OxfordFlowers": "a photo of a {}, a type of flower.",
    "FGVCAircraft": "a photo of a {}, a type of aircraft.",
    "DescribableTextures": "{} texture.",
    "EuroSAT": "a centered satellite photo of {}.",
    "StanfordCars": "a photo of a {}.",
    "Food101": "a photo of {}, a type of food.",
    "SUN397": "a photo of a {}.",
    "Caltech101": "a photo of a {}.",
    "UCF101": "a photo of a person doing {}.",
    "ImageNet": "a photo of a {}.",
    "ImageNetSketch": "a photo of a {}.",
    "ImageNetV2": "a photo of a {}.",
    "ImageNetA": "a photo of a {}.",
    "ImageNetR": "a photo of a {}.",
}
GENERIC_TEMPLATE = "a photo of a {}."
# Entries that KgCoOp's repository and the SEP authors' code change in CoOp's table above.
TABLE_CHANGES = {
    "coop": {},
    "kgcoop": {"DescribableTextures": "a photo of a {}, a type of texture."},
    "sep_reference": {
        "FGVCAircraft": "a photo of an aircraft {}.",
        "DescribableTextures": "a photo of a {}, a type of texture.",
        "StanfordCars": "a photo of a {}, a type of car.",
        "Food101": "a photo of a {}, a type of food.",
    },
}
TEMPLATE_TABLES = tuple(TABLE_CHANGES)


def hand_crafted_prompts(dataset_name, classnames, table="coop"):
    """One prompt per class; datasets outside the table get the generic template."""
    templates = dict(HAND_CRAFTED_TEMPLATES, **TABLE_CHANGES[table])
    template = templates.get(dataset_name, GENERIC_TEMPLATE)
    return [template.format(name.replace("_", " ")) for name in classnames]


def check_template_table(table, key):
    if table not in TABLE_CHANGES:
        raise ConfigError(f'{key} "{table}" is not one of {TEMPLATE_TABLES}')
