"""The generated world's downstream datasets: a shared base, one thin file per dataset.

A subclass names its folder and the rendering style of its domain (tools/world/render.py);
``python tools/make_world_data.py --root $DATA`` writes every subclass's images and split file.
"""

from .splits import FixedSplitDataset

IMAGE_FOLDER = "images"


class WorldDataset(FixedSplitDataset):
    style = ""  # rendering style of the domain (a tools.world.render.STYLES entry)
    image_dir_name = IMAGE_FOLDER

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.split_file_name = f"split_zhou_{cls.__name__}.json"
        cls.layout = f"""
{cls.dataset_dir}/
|-- {IMAGE_FOLDER}/                    <class>/0001.png, ...
|-- {cls.split_file_name}
(generated, not downloaded: python tools/make_world_data.py --root $DATA)
"""
