"""Hand-crafted prompt per dataset: the CoOp/KgCoOp template table, shared by every method."""

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


def hand_crafted_prompts(dataset_name, classnames):
    """One prompt per class; datasets outside the table get the generic template."""
    template = HAND_CRAFTED_TEMPLATES.get(dataset_name, GENERIC_TEMPLATE)
    return [template.format(name.replace("_", " ")) for name in classnames]
