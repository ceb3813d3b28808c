"""Mean over seeds per dataset, the harmonic mean, and the average over datasets, per method;
and the spread over seeds of each (the population or the sample standard deviation of the
per-seed values).

Nothing missing is dropped silently: a dataset or seed that is absent is shown as such in the
row (``"2/3 !"``, a note) and listed in the warnings with the run directory that was expected.
"""

import os
import statistics
from dataclasses import dataclass, field

import numpy as np

from tools.results.protocols import MEAN_HM, PROTOCOLS, dataset_sort_key, display_name
from tools.results.run_consistency import dataset_name, first_difference, run_options
from tools.results.run_discovery import (
    find_stage_root,
    group_methods,
    run_dir_path,
    scan_published,
    scan_stage,
)
from tools.results.run_result import load_run_result

AVERAGE_KEY = "average"
FLAG = "!"


class NoRunsFound(Exception):
    """The output root holds no run of the requested protocol."""


class MixedCLIPs(Exception):
    """The runs of one table were made with CLIPs of different weights."""


def harmonic_mean(base, new):
    """Harmonic mean of Base and New accuracy (0 when both are 0)."""
    return 2.0 * base * new / (base + new) if base + new > 0 else 0.0


@dataclass
class SeedStats:
    """The metric of one (method, dataset, stage) for each expected seed that has a result."""

    values: dict  # seed -> float
    expected_seeds: tuple

    @property
    def found(self):
        return len(self.values)

    @property
    def complete(self):
        return self.found == len(self.expected_seeds)

    @property
    def mean(self):
        return float(np.mean(list(self.values.values()))) if self.values else None

    @property
    def label(self):
        return f"{self.found}/{len(self.expected_seeds)}"


# --std: population (divides by n, numpy's default and parse_test_res.py's, as CoOp) or sample
# (divides by n - 1)
STD_KINDS = ("population", "sample")


def seed_sd(values, kind="population"):
    """Standard deviation of ``kind`` (STD_KINDS); None for fewer than two values."""
    values = list(values)
    if len(values) < 2:
        return None
    return statistics.pstdev(values) if kind == "population" else statistics.stdev(values)


@dataclass
class SummaryRow:
    key: str  # dataset config name, or AVERAGE_KEY
    label: str  # what the table shows in its Dataset column
    values: dict  # value column -> float or None
    seeds: str
    note: str = ""
    flagged: bool = False
    partial_seeds: bool = False  # some number here is a mean over fewer seeds than expected
    # value column -> {seed: that seed's own value}: Base and New as run, HM of that seed's Base
    # and New; in the average row, each seed's average over the datasets
    per_seed: dict = field(default_factory=dict)

    def spread(self, column, kind="population"):
        """Standard deviation (``kind``: STD_KINDS) over seeds of ``column``'s per-seed values
        (None for fewer than two seeds)."""
        return seed_sd(self.per_seed.get(column, {}).values(), kind)


@dataclass
class MethodSummary:
    method: object  # run_discovery.Method
    rows: list  # one per dataset, then the average row
    datasets_averaged: int
    datasets_expected: int
    backbones: set = field(default_factory=set)

    @property
    def average(self):
        return self.rows[-1]


@dataclass
class ProtocolSummary:
    protocol: object  # protocols.Protocol
    seeds: tuple
    metric: str
    methods: list  # MethodSummary, one per method
    warnings: list
    runs_from_json: int = 0
    runs_from_log: int = 0


def _choose_datasets(defaults, found, override, warnings, what):
    """Datasets a method is expected to have.

    An explicit ``override`` wins. Otherwise the protocol's standard list plus any other dataset
    found (so extra datasets are counted, not hidden) -- unless none of the found datasets is a
    standard one (a toy run), in which case the found datasets are the expectation.
    """
    if override:
        ignored = sorted(set(found) - set(override), key=dataset_sort_key)
        if ignored:
            warnings.append(f"ignored {what} not in --datasets: {', '.join(ignored)}")
        return list(override)
    if found and not set(found) & set(defaults):
        return sorted(found, key=dataset_sort_key)
    extras = sorted(set(found) - set(defaults), key=dataset_sort_key)
    return list(defaults) + extras


class _Collector:
    """Finds a protocol's run directories, loads the results one stage at a time and records
    every warning (missing runs, unreadable results, ignored folders) on the way."""

    def __init__(self, output_root, protocol, seeds, metric):
        self.output_root = output_root
        self.protocol = protocol
        self.seeds = tuple(seeds)
        self.metric = metric
        self.stage_roots = {
            stage.role: find_stage_root(output_root, stage.relative_roots)
            for stage in protocol.stages
        }
        self.seed_dirs = {}  # (role, experiment, dataset) -> {seed: path}
        self.published_roles = set()
        for stage in protocol.stages:
            for run in scan_stage(self.stage_roots[stage.role]):
                key = (stage.role, run.experiment, run.dataset)
                self.seed_dirs.setdefault(key, {})[run.seed] = run.path
            for run in scan_published(output_root, stage.role):
                if stage.role == "target" and not self._own_target(run.dataset):
                    continue  # the published layout keeps both transfer protocols together
                key = (stage.role, run.experiment, run.dataset)
                self.seed_dirs.setdefault(key, {}).setdefault(run.seed, run.path)
                self.published_roles.add(stage.role)
        self.warnings = []
        self.clip_digests = {}  # result.json's clip_weights_digest -> first run that has it
        self.runs_from_json = 0
        self.runs_from_log = 0

    def _own_target(self, dataset):
        """Whether a published-layout evaluation belongs to this protocol: domain
        generalisation's targets are the ImageNet variants, cross-dataset's every other."""
        is_variant = dataset in PROTOCOLS["domain_generalization"].default_datasets
        return is_variant == (self.protocol.name == "domain_generalization")

    def found_datasets(self, role):
        return {dataset for (stage_role, _, dataset) in self.seed_dirs if stage_role == role}

    def methods(self):
        """Methods with a run under this protocol's own folder: domain generalisation may
        borrow cross_dataset's training runs, but those alone do not make a row."""
        own_roles = {
            role
            for role, root in self.stage_roots.items()
            if os.path.relpath(root, self.output_root).split(os.sep)[0] == self.protocol.name
        }
        own_roles |= self.published_roles - {"source"}
        datasets_of = {}
        for role, experiment, dataset in self.seed_dirs:
            if role in own_roles:
                datasets_of.setdefault(experiment, set()).add(dataset)
        return group_methods(datasets_of, self.protocol.large_config_datasets)

    def stage_name(self, role):
        return os.path.relpath(self.stage_roots[role], self.output_root)

    def collect(self, role, method, datasets, backbones):
        """SeedStats of every dataset in ``datasets`` for one stage of ``method``.

        Datasets without any run directory are returned in ``absent`` for one combined warning;
        missing seeds and unreadable runs of the others are warned about one by one.
        """
        stage = self.protocol.stage(role)
        stage_root = self.stage_roots[role]
        stats = {}
        absent = []
        for dataset in datasets:
            experiment = method.experiment_for(dataset)
            present = self.seed_dirs.get((role, experiment, dataset), {})
            values = {}
            reference = None  # (run folder, options) of the first seed with recorded options
            if not present:
                absent.append(dataset)
            for seed in self.seeds if present else ():
                if seed not in present:
                    self.warnings.append(
                        f"missing run: {run_dir_path(stage_root, dataset, experiment, seed)}"
                    )
                    continue
                result = self._load(stage, present[seed], seed, dataset)
                if result is None:
                    continue
                options = run_options(present[seed])
                if options is not None and reference is None:
                    reference = (present[seed], options)
                elif options is not None:
                    difference = first_difference(options, reference[1])
                    if difference:
                        self.warnings.append(
                            f"left out {present[seed]}: it ran with other options than "
                            f"{reference[0]} ({difference})"
                        )
                        continue
                values[seed] = result.metrics[self.metric]
                if "backbone" in result.info:
                    backbones.add(result.info["backbone"])
                if result.info.get("clip_weights_digest"):
                    self.clip_digests.setdefault(result.info["clip_weights_digest"], result.run_dir)
            for seed in sorted(set(present) - set(self.seeds)):
                self.warnings.append(f"ignored {present[seed]} (seed not in --seeds)")
            stats[dataset] = SeedStats(values, self.seeds)
        return stats, absent

    def _load(self, stage, path, seed, dataset):
        expected = {"seed": seed}
        if stage.subsample:
            expected["subsample"] = stage.subsample
        name = dataset_name(dataset)
        if name is not None:
            expected["dataset"] = name
        result, problems = load_run_result(path, stage.end_signals, self.metric, expected)
        self.warnings.extend(problems)
        if result is not None:
            if result.source.endswith(".json"):
                self.runs_from_json += 1
            else:
                self.runs_from_log += 1
        return result

    def warn_absent(self, method, absent_by_role, datasets_by_role):
        """One warning per group of datasets that has no run at all in the same stages."""
        by_roles = {}
        for role, absent in absent_by_role.items():
            for dataset in absent:
                by_roles.setdefault(dataset, []).append(role)
        groups = {}
        for dataset, roles in by_roles.items():
            groups.setdefault(tuple(roles), []).append(dataset)
        for roles, datasets in groups.items():
            stages = " or ".join(self.stage_name(role) for role in roles)
            expected_everywhere = all(
                set(datasets_by_role[role]) <= set(datasets) for role in roles
            )
            which = "any dataset" if expected_everywhere else ", ".join(datasets)
            where = " and ".join(
                run_dir_path(self.stage_roots[role], "<dataset>", method.main, "<S>")
                for role in roles
            )
            self.warnings.append(
                f"{method.label} ({method.shots} shots): no {stages} runs for {which} "
                f"(expected {where})"
            )


def _seed_issue(stats, stage_name=""):
    """What is missing from ``stats`` (e.g. "New 2/3 seeds"), or None when complete."""
    prefix = f"{stage_name} " if stage_name else ""
    if stats.found == 0:
        return f"no {prefix}runs"
    return None if stats.complete else f"{prefix}{stats.label} seeds"


def _mean_over_rows(rows, columns, value_of, combine):
    """{column: mean over ``rows`` of ``value_of(row, column)``}, plus ``combine``'s columns."""
    values = {
        column: (float(np.mean([value_of(row, column) for row in rows])) if rows else None)
        for column in columns
    }
    if combine is not None:
        values.update(combine(values))
    return values


def _per_seed_averages(used, columns, combine):
    """{column: {seed: the average over ``used`` of that seed's values}}, over the seeds that
    every used row has in every column (an average over fewer datasets would not compare)."""
    common = None
    for row in used:
        for column in columns:
            seeds = set(row.per_seed.get(column, {}))
            common = seeds if common is None else common & seeds
    per_seed = {}
    for seed in sorted(common or ()):
        values = _mean_over_rows(
            used, columns, lambda row, column, seed=seed: row.per_seed[column][seed], combine
        )
        for column, value in values.items():
            per_seed.setdefault(column, {})[seed] = value
    return per_seed


def _average_row(label, rows, columns, combine=None):
    """Mean of each column over the rows that have every column; flags what was left out."""
    has_all = [all(row.values[column] is not None for column in columns) for row in rows]
    used = [row for row, complete in zip(rows, has_all) if complete]
    values = _mean_over_rows(used, columns, lambda row, column: row.values[column], combine)
    issues = []
    left_out = [row.label for row, complete in zip(rows, has_all) if not complete]
    if left_out:
        issues.append("not in average: " + ", ".join(left_out))
    partial = [row.label for row in used if row.partial_seeds]
    if partial:
        issues.append("partial seeds: " + ", ".join(partial))
    flagged = bool(issues)
    seeds = f"{len(used)}/{len(rows)} datasets" + (f" {FLAG}" if flagged else "")
    row = SummaryRow(
        AVERAGE_KEY,
        label,
        values,
        seeds,
        "; ".join(issues),
        flagged,
        bool(partial),
        _per_seed_averages(used, columns, combine),
    )
    return row, len(used)


def _accuracy_row(key, label, stats):
    issue = _seed_issue(stats)
    flagged = issue is not None
    seeds = stats.label + (f" {FLAG}" if flagged else "")
    return SummaryRow(
        key,
        label,
        {"Accuracy": stats.mean},
        seeds,
        issue or "",
        flagged,
        partial_seeds=stats.found > 0 and not stats.complete,
        per_seed={"Accuracy": dict(stats.values)},
    )


def _note_large_config(method, rows):
    """Name the config of the rows whose runs used the method's large-dataset config."""
    for row in rows:
        if method.experiment_for(row.key) != method.main:
            config = f"config {method.large.tag}"
            row.note = f"{row.note}; {config}" if row.note else config


def _summarize_base2new(collector, method, datasets):
    backbones = set()
    base, base_absent = collector.collect("base", method, datasets, backbones)
    new, new_absent = collector.collect("new", method, datasets, backbones)
    collector.warn_absent(
        method,
        {"base": base_absent, "new": new_absent},
        {"base": datasets, "new": datasets},
    )
    rows = []
    for dataset in datasets:
        base_stats, new_stats = base[dataset], new[dataset]
        hm = None
        if base_stats.found and new_stats.found:
            hm = harmonic_mean(base_stats.mean, new_stats.mean)
        issues = [
            issue
            for issue in (_seed_issue(base_stats, "Base"), _seed_issue(new_stats, "New"))
            if issue
        ]
        flagged = bool(issues)
        paired = sorted(set(base_stats.values) & set(new_stats.values))
        seed_hms = {
            seed: harmonic_mean(base_stats.values[seed], new_stats.values[seed]) for seed in paired
        }
        if base_stats.found == new_stats.found:
            seeds = base_stats.label
        else:
            seeds = f"base {base_stats.label}, new {new_stats.label}"
        rows.append(
            SummaryRow(
                dataset,
                display_name(dataset),
                {"Base": base_stats.mean, "New": new_stats.mean, "HM": hm, MEAN_HM: hm},
                seeds + (f" {FLAG}" if flagged else ""),
                "; ".join(issues),
                flagged,
                partial_seeds=any(
                    0 < stats.found < len(stats.expected_seeds) for stats in (base_stats, new_stats)
                ),
                per_seed={
                    "Base": dict(base_stats.values),
                    "New": dict(new_stats.values),
                    "HM": seed_hms,
                    MEAN_HM: seed_hms,
                },
            )
        )
    # Most papers average Base and New over datasets and take the HM of those averages (HM);
    # some average the per-dataset HMs instead (MEAN_HM). Both come over the same datasets.
    average, used = _average_row(
        "Average",
        rows,
        ("Base", "New", MEAN_HM),
        combine=lambda values: {
            "HM": harmonic_mean(values["Base"], values["New"])
            if values["Base"] is not None
            else None
        },
    )
    _note_large_config(method, rows)
    return MethodSummary(method, rows + [average], used, len(datasets), backbones)


def _summarize_accuracy(collector, method, sources, targets):
    backbones = set()
    rows = []
    absent = {}
    if sources:
        source_stats, absent["source"] = collector.collect("source", method, sources, backbones)
        rows += [
            _accuracy_row(dataset, f"{display_name(dataset)} (source)", source_stats[dataset])
            for dataset in sources
        ]
    role = "target" if sources else "accuracy"
    target_stats, absent[role] = collector.collect(role, method, targets, backbones)
    collector.warn_absent(method, absent, {"source": sources, role: targets})
    target_rows = [
        _accuracy_row(dataset, display_name(dataset), target_stats[dataset]) for dataset in targets
    ]
    label = "Average (targets)" if sources else "Average"
    average, used = _average_row(label, target_rows, ("Accuracy",))
    _note_large_config(method, target_rows)
    return MethodSummary(method, rows + target_rows + [average], used, len(targets), backbones)


def summarize(output_root, protocol, seeds=(1, 2, 3), metric="accuracy", datasets=None):
    """Per-method, per-dataset means over seeds for ``protocol`` under ``output_root``.

    ``datasets`` overrides the expected datasets (the targets, for protocols with a source).
    Raises NoRunsFound when no run directory of the protocol exists.
    """
    collector = _Collector(output_root, protocol, seeds, metric)
    methods = collector.methods()
    if not methods:
        roots = ", ".join(sorted(set(collector.stage_roots.values())))
        raise NoRunsFound(
            f"no {protocol.name} runs (<dataset>/shots_<K>/<TRAINER>/<TAG>/seed<S>) under {roots}"
        )
    warnings = collector.warnings
    summaries = []
    if protocol.source_dataset is None:
        found = set()
        for stage in protocol.stages:
            found |= collector.found_datasets(stage.role)
        expected = _choose_datasets(
            protocol.default_datasets, found, datasets, warnings, "datasets"
        )
        for method in methods:
            if protocol.name == "base2new":
                summaries.append(_summarize_base2new(collector, method, expected))
            else:
                summaries.append(_summarize_accuracy(collector, method, [], expected))
    else:
        sources = _choose_datasets(
            (protocol.source_dataset,),
            collector.found_datasets("source"),
            None,
            warnings,
            "source datasets",
        )
        found_targets = collector.found_datasets("target")
        for dataset in sorted(found_targets & set(sources)):
            warnings.append(
                f"ignored {collector.stage_name('target')}/{dataset}: it is the source "
                "dataset (its accuracy comes from the training run)"
            )
        targets = _choose_datasets(
            protocol.default_datasets,
            found_targets - set(sources),
            datasets,
            warnings,
            "target datasets",
        )
        for method in methods:
            summaries.append(_summarize_accuracy(collector, method, sources, targets))
    if len(collector.clip_digests) > 1:
        examples = "; ".join(f"{d} in {run}" for d, run in sorted(collector.clip_digests.items()))
        raise MixedCLIPs(
            f"the runs were made with {len(collector.clip_digests)} CLIPs of different weights "
            f"(clip_weights_digest in result.json: {examples}): re-run them with one CLIP, "
            "each into its own OUTPUT"
        )
    return ProtocolSummary(
        protocol,
        tuple(seeds),
        metric,
        summaries,
        warnings,
        collector.runs_from_json,
        collector.runs_from_log,
    )
