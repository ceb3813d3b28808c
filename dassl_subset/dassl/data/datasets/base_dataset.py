"""Datum (one labelled image) and DatasetBase (train_x / train_u / val / test lists of Datum).

Attribute names match upstream Dassl so few-shot split pickles load with either package.
"""

import os
import random
from collections import defaultdict


class Datum:
    """One image: path, class label, domain label and class name (read-only)."""

    def __init__(self, impath="", label=0, domain=0, classname=""):
        if not isinstance(impath, str):
            raise TypeError(f"impath must be a str, got {type(impath).__name__}")
        if not os.path.isfile(impath):
            raise FileNotFoundError(f'No file found at "{impath}"')
        self._impath = impath
        self._label = label
        self._domain = domain
        self._classname = classname

    @property
    def impath(self):
        return self._impath

    @property
    def label(self):
        return self._label

    @property
    def domain(self):
        return self._domain

    @property
    def classname(self):
        return self._classname

    def __repr__(self):
        return (
            f"Datum(impath={self._impath!r}, label={self._label}, domain={self._domain}, "
            f"classname={self._classname!r})"
        )


class DatasetBase:
    """Holds the splits of one dataset; subclasses build the Datum lists and call ``__init__``."""

    dataset_dir = ""  # folder of the dataset under DATASET.ROOT
    domains = []  # names of all domains

    def __init__(self, train_x=None, train_u=None, val=None, test=None):
        self._train_x = train_x  # labelled training data
        self._train_u = train_u  # unlabelled training data (optional)
        self._val = val  # validation data (optional)
        self._test = test
        self._num_classes = self.get_num_classes(train_x)
        self._lab2cname, self._classnames = self.get_lab2cname(train_x)

    @property
    def train_x(self):
        return self._train_x

    @property
    def train_u(self):
        return self._train_u

    @property
    def val(self):
        return self._val

    @property
    def test(self):
        return self._test

    @property
    def lab2cname(self):
        return self._lab2cname

    @property
    def classnames(self):
        return self._classnames

    @property
    def num_classes(self):
        return self._num_classes

    @staticmethod
    def get_num_classes(data_source):
        """Largest label + 1."""
        return max(item.label for item in data_source) + 1

    @staticmethod
    def get_lab2cname(data_source):
        """``({label: classname}, [classname ordered by label])``."""
        mapping = {item.label: item.classname for item in data_source}
        classnames = [mapping[label] for label in sorted(mapping)]
        return mapping, classnames

    def check_input_domains(self, source_domains, target_domains):
        if not source_domains:
            raise ValueError("source_domains (list) is empty")
        if not target_domains:
            raise ValueError("target_domains (list) is empty")
        self.is_input_domain_valid(source_domains)
        self.is_input_domain_valid(target_domains)

    def is_input_domain_valid(self, input_domains):
        for domain in input_domains:
            if domain not in self.domains:
                raise ValueError(f"Input domain must belong to {self.domains}, but got [{domain}]")

    def generate_fewshot_dataset(self, *data_sources, num_shots=-1, repeat=False):
        """Keep ``num_shots`` items per class of each data source.

        Same draws as upstream Dassl for the same ``random`` state: classes in order of first
        appearance, ``random.sample`` when a class has enough items, else ``random.choices``
        (``repeat``) or all of them. One source in -> one list out.
        """
        if num_shots < 1:
            return data_sources[0] if len(data_sources) == 1 else data_sources

        print(f"Creating a {num_shots}-shot dataset")
        output = []
        for data_source in data_sources:
            fewshot = []
            for items in self.split_dataset_by_label(data_source).values():
                if len(items) >= num_shots:
                    fewshot.extend(random.sample(items, num_shots))
                elif repeat:
                    fewshot.extend(random.choices(items, k=num_shots))
                else:
                    fewshot.extend(items)
            output.append(fewshot)
        return output[0] if len(output) == 1 else output

    def split_dataset_by_label(self, data_source):
        """``{label: [Datum, ...]}`` in order of first appearance."""
        groups = defaultdict(list)
        for item in data_source:
            groups[item.label].append(item)
        return groups

    def split_dataset_by_domain(self, data_source):
        """``{domain: [Datum, ...]}`` in order of first appearance."""
        groups = defaultdict(list)
        for item in data_source:
            groups[item.domain].append(item)
        return groups
