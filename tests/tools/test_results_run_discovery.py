import os

from tools.results.run_discovery import (
    Experiment,
    Method,
    find_stage_root,
    group_methods,
    list_run_dirs,
    run_dir_path,
    scan_stage,
)


def _mkdirs(root, *paths):
    for path in paths:
        os.makedirs(os.path.join(root, path))


def test_seed_folders_are_listed_in_natural_order(tmp_path):
    _mkdirs(tmp_path, "seed10", "seed2", "seed1", ".hidden", "notes")
    names = [os.path.basename(path) for path in list_run_dirs(str(tmp_path))]
    assert names == ["seed1", "seed2", "seed10"]


def test_every_subfolder_is_a_run_without_seed_folders(tmp_path):
    _mkdirs(tmp_path, "run_b", "run_a")
    assert [os.path.basename(path) for path in list_run_dirs(str(tmp_path))] == ["run_a", "run_b"]


def test_scan_stage_reads_the_layout_and_skips_other_folders(tmp_path):
    _mkdirs(
        tmp_path,
        "dtd/shots_16/CoOp/vit_b16/seed1",
        "dtd/shots_4/SEP/tag_opts-1a2b/seed3",
        "dtd/misc/CoOp/vit_b16/seed1",
        "dtd/shots_16/CoOp/vit_b16/tensorboard",
    )
    runs = scan_stage(str(tmp_path))
    found = sorted((run.dataset, run.experiment, run.seed) for run in runs)
    assert found == [
        ("dtd", Experiment("CoOp", "vit_b16", 16), 1),
        ("dtd", Experiment("SEP", "tag_opts-1a2b", 4), 3),
    ]
    coop = next(run for run in runs if run.experiment.trainer == "CoOp")
    assert coop.path == run_dir_path(str(tmp_path), "dtd", coop.experiment, 1)


def test_stage_root_falls_back_to_the_first_existing_candidate(tmp_path):
    _mkdirs(tmp_path, "cross_dataset/train")
    root = find_stage_root(
        str(tmp_path), (("domain_generalization", "train"), ("cross_dataset", "train"))
    )
    assert root == os.path.join(str(tmp_path), "cross_dataset", "train")


def test_large_dataset_config_joins_the_method_it_belongs_to():
    main = Experiment("SEP", "vit_b16_ep50_batch32", 16)
    large = Experiment("SEP", "vit_b16_ep10_batch128", 16)
    ablation = Experiment("SEP", "vit_b16_ep50_batch32_opts-1a2b3c4d", 16)
    methods = group_methods(
        {main: {"dtd", "caltech101"}, large: {"imagenet", "sun397"}, ablation: {"dtd"}},
        ("imagenet", "sun397"),
    )
    assert methods == [Method(main, large, ("imagenet", "sun397")), Method(ablation)]
    assert methods[0].experiment_for("sun397") == large
    assert methods[0].experiment_for("dtd") == main


def test_configs_that_share_a_dataset_stay_separate_methods():
    first = Experiment("CoOp", "vit_b16_ep50", 16)
    second = Experiment("CoOp", "vit_b16_ep10", 16)
    methods = group_methods(
        {first: {"imagenet", "dtd"}, second: {"imagenet"}}, ("imagenet", "sun397")
    )
    assert methods == [Method(second), Method(first)]
    assert group_methods({second: {"imagenet"}, first: {"dtd"}}, ()) == [
        Method(second),
        Method(first),
    ]
