import pickle
import random
import sys
import types
from collections import OrderedDict

import pytest
from dassl.data.datasets import DATASET_REGISTRY, DatasetBase, Datum, build_dataset
from subset_helpers import write_png


@pytest.fixture
def image_path(tmp_path):
    return write_png(tmp_path / "img.png")


def _data(image_path, labels):
    return [
        Datum(impath=image_path, label=label, domain=i % 2, classname=f"class_{label}")
        for i, label in enumerate(labels)
    ]


def _upstream_fewshot(data_source, num_shots, repeat):
    """Dassl's sampling restated: classes in order of first appearance, one draw per class."""
    by_label = OrderedDict()
    for item in data_source:
        by_label.setdefault(item.label, []).append(item)
    picked = []
    for items in by_label.values():
        if len(items) >= num_shots:
            picked += random.sample(items, num_shots)
        elif repeat:
            picked += random.choices(items, k=num_shots)
        else:
            picked += items
    return picked


def test_datum_exposes_read_only_fields_and_requires_an_existing_file(image_path, tmp_path):
    datum = Datum(impath=image_path, label=3, domain=1, classname="dog")
    assert (datum.impath, datum.label, datum.domain, datum.classname) == (image_path, 3, 1, "dog")
    with pytest.raises(AttributeError):
        datum.label = 4
    with pytest.raises(FileNotFoundError, match="missing.png"):
        Datum(impath=str(tmp_path / "missing.png"))


def test_datum_pickle_is_interchangeable_with_upstream_dassl(image_path, monkeypatch):
    datum = Datum(impath=image_path, label=2, domain=0, classname="cat")
    payload = pickle.dumps(datum, protocol=2)
    assert b"dassl.data.datasets.base_dataset\nDatum" in payload
    assert vars(pickle.loads(payload)) == {
        "_impath": image_path,
        "_label": 2,
        "_domain": 0,
        "_classname": "cat",
    }

    # a pickle written by another class with upstream's attribute layout and module path
    stub = types.ModuleType("upstream_stub")

    class UpstreamDatum:
        pass

    UpstreamDatum.__name__ = UpstreamDatum.__qualname__ = "Datum"
    UpstreamDatum.__module__ = "upstream_stub"
    stub.Datum = UpstreamDatum
    monkeypatch.setitem(sys.modules, "upstream_stub", stub)
    upstream = UpstreamDatum()
    upstream.__dict__.update(_impath=image_path, _label=5, _domain=1, _classname="owl")
    upstream_payload = pickle.dumps(upstream, protocol=2).replace(
        b"upstream_stub\nDatum", b"dassl.data.datasets.base_dataset\nDatum"
    )
    loaded = pickle.loads(upstream_payload)
    assert type(loaded) is Datum
    assert (loaded.impath, loaded.label, loaded.domain, loaded.classname) == (
        image_path,
        5,
        1,
        "owl",
    )


def test_dataset_base_derives_classes_from_train_x(image_path):
    train = _data(image_path, [2, 0, 2, 1])
    dataset = DatasetBase(train_x=train, test=train[:1])
    assert dataset.num_classes == 3
    assert dataset.lab2cname == {0: "class_0", 1: "class_1", 2: "class_2"}
    assert dataset.classnames == ["class_0", "class_1", "class_2"]
    assert dataset.train_u is None and dataset.val is None and dataset.test == train[:1]
    assert list(dataset.split_dataset_by_label(train)) == [2, 0, 1]
    assert [len(v) for v in dataset.split_dataset_by_domain(train).values()] == [2, 2]


@pytest.mark.parametrize("num_shots, repeat", [(2, False), (4, False), (4, True)])
def test_fewshot_picks_the_same_items_as_upstream_dassl_for_a_seed(image_path, num_shots, repeat):
    train = _data(image_path, [3, 1, 3, 0, 1, 3, 3, 1, 0, 3, 1, 1, 2])  # uneven, unsorted classes
    dataset = DatasetBase(train_x=train)
    random.seed(7)
    ours = dataset.generate_fewshot_dataset(train, num_shots=num_shots, repeat=repeat)
    random.seed(7)
    theirs = _upstream_fewshot(train, num_shots, repeat)
    assert [id(item) for item in ours] == [id(item) for item in theirs]


def test_fewshot_is_deterministic_per_seed_and_counts_shots(image_path, capsys):
    train = _data(image_path, [i % 3 for i in range(30)])
    dataset = DatasetBase(train_x=train)
    random.seed(1)
    first = dataset.generate_fewshot_dataset(train, num_shots=4)
    assert capsys.readouterr().out == "Creating a 4-shot dataset\n"
    random.seed(1)
    again = dataset.generate_fewshot_dataset(train, num_shots=4)
    random.seed(2)
    other = dataset.generate_fewshot_dataset(train, num_shots=4)
    assert first == again and first != other
    assert sorted(item.label for item in first) == [0] * 4 + [1] * 4 + [2] * 4


def test_fewshot_with_several_sources_returns_a_list_each_and_non_positive_shots_return_input(
    image_path,
):
    train, val = _data(image_path, [0, 0, 1, 1]), _data(image_path, [0, 1, 1])
    dataset = DatasetBase(train_x=train)
    few_train, few_val = dataset.generate_fewshot_dataset(train, val, num_shots=1)
    assert len(few_train) == 2 and len(few_val) == 2
    assert dataset.generate_fewshot_dataset(train, num_shots=-1) is train
    assert dataset.generate_fewshot_dataset(train, val, num_shots=0) == (train, val)


def test_build_dataset_instantiates_the_registered_class_and_rejects_typos(cpu_cfg, image_path):
    @DATASET_REGISTRY.register(force=True)
    class TinyDatasetForBuildTest(DatasetBase):
        def __init__(self, cfg):
            super().__init__(train_x=_data(image_path, [0, 1]), test=_data(image_path, [0]))

    cpu_cfg.DATASET.NAME = "TinyDatasetForBuildTest"
    assert build_dataset(cpu_cfg).num_classes == 2
    cpu_cfg.DATASET.NAME = "TinyDatasetForBuildTst"
    with pytest.raises(ValueError, match=r"do you mean \[TinyDatasetForBuildTest\]"):
        build_dataset(cpu_cfg)
