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
# Entries that KgCoOp's repository, the SEP, ProGrad and TCP authors' code change in CoOp's
# table above.
TABLE_CHANGES = {
    "coop": {},
    "kgcoop": {"DescribableTextures": "a photo of a {}, a type of texture."},
    "sep_reference": {
        "FGVCAircraft": "a photo of an aircraft {}.",
        "DescribableTextures": "a photo of a {}, a type of texture.",
        "StanfordCars": "a photo of a {}, a type of car.",
        "Food101": "a photo of a {}, a type of food.",
    },
    "prograd": {
        "OxfordPets": "a type of pet, a photo of a {}.",
        "OxfordFlowers": "a type of flower, a photo of a {}.",
        "FGVCAircraft": "a type of aircraft, a photo of a {}.",
        "DescribableTextures": "a texture of {}.",
        "Food101": "a type of food, a photo of {}.",
    },
    "tcp": {
        "FGVCAircraft": "a photo of an aircraft {}.",
        "DescribableTextures": "a photo of a {}, a type of texture.",
        "Food101": "a photo of a {}, a type of food.",
    },
}
TEMPLATE_TABLES = tuple(TABLE_CHANGES)

# PromptSRC's textual diversity: frozen CLIP's class features averaged over these 60 of the 80
# ImageNet templates of CLIP's prompt-engineering notebook (the subset the PromptSRC authors use).
ENSEMBLE_TEMPLATES = (
    "a photo of a {}.",
    "a bad photo of a {}.",
    "a photo of many {}.",
    "a sculpture of a {}.",
    "a photo of the hard to see {}.",
    "a low resolution photo of the {}.",
    "a rendering of a {}.",
    "graffiti of a {}.",
    "a bad photo of the {}.",
    "a cropped photo of the {}.",
    "a tattoo of a {}.",
    "the embroidered {}.",
    "a photo of a hard to see {}.",
    "a bright photo of a {}.",
    "a photo of a clean {}.",
    "a photo of a dirty {}.",
    "a dark photo of the {}.",
    "a drawing of a {}.",
    "a photo of my {}.",
    "the plastic {}.",
    "a photo of the cool {}.",
    "a close-up photo of a {}.",
    "a black and white photo of the {}.",
    "a painting of the {}.",
    "a painting of a {}.",
    "a pixelated photo of the {}.",
    "a sculpture of the {}.",
    "a bright photo of the {}.",
    "a cropped photo of a {}.",
    "a plastic {}.",
    "a photo of the dirty {}.",
    "a jpeg corrupted photo of a {}.",
    "a blurry photo of the {}.",
    "a photo of the {}.",
    "a good photo of the {}.",
    "a rendering of the {}.",
    "a {} in a video game.",
    "a photo of one {}.",
    "a doodle of a {}.",
    "a close-up photo of the {}.",
    "the origami {}.",
    "the {} in a video game.",
    "a sketch of a {}.",
    "a doodle of the {}.",
    "a origami {}.",
    "a low resolution photo of a {}.",
    "the toy {}.",
    "a rendition of the {}.",
    "a photo of the clean {}.",
    "a photo of a large {}.",
    "a rendition of a {}.",
    "a photo of a nice {}.",
    "a photo of a weird {}.",
    "a blurry photo of a {}.",
    "a cartoon {}.",
    "art of a {}.",
    "a sketch of the {}.",
    "a embroidered {}.",
    "a pixelated photo of a {}.",
    "itap of the {}.",
)


def hand_crafted_template(dataset_name, table="coop"):
    """The dataset's template in ``table``; datasets outside the table get the generic one."""
    return dict(HAND_CRAFTED_TEMPLATES, **TABLE_CHANGES[table]).get(dataset_name, GENERIC_TEMPLATE)


def hand_crafted_prompts(dataset_name, classnames, table="coop", template=""):
    """One prompt per class; datasets outside the table get the generic template, and a given
    ``template`` (``DATASET.PROMPT_TEMPLATE``, with one ``{}``) replaces the table's."""
    template = template or hand_crafted_template(dataset_name, table)
    return [template.format(name.replace("_", " ")) for name in classnames]


def check_prompt_template(template, key="DATASET.PROMPT_TEMPLATE"):
    if template and template.count("{}") != 1:
        raise ConfigError(
            f'{key} "{template}" must hold the class name\'s place as one "{{}}", e.g. '
            '"a photo of a {}."'
        )


def check_template_table(table, key):
    if table not in TABLE_CHANGES:
        raise ConfigError(f'{key} "{table}" is not one of {TEMPLATE_TABLES}')
