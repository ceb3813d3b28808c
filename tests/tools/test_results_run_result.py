import json
import os

from tools.results.log_parsing import TEST_END_SIGNALS, TRAIN_END_SIGNALS
from tools.results.run_result import load_run_result


def test_result_json_is_preferred_over_the_log(runs):
    run_dir = runs.run(runs.path("run"), 87.3, json_accuracy=87.3123)
    result, problems = load_run_result(run_dir, TRAIN_END_SIGNALS)
    assert result.metrics["accuracy"] == 87.3123
    assert result.source.endswith("result.json")
    assert problems == []


def test_log_is_used_without_result_json(runs):
    run_dir = runs.run(runs.path("run"), 64.2, eval_only=True)
    result, problems = load_run_result(run_dir, TEST_END_SIGNALS)
    assert result.metrics["accuracy"] == 64.2
    assert result.source.endswith("log.txt")
    assert problems == []


def test_time_suffixed_log_of_a_rerun_is_not_read(runs):
    run_dir = runs.run(runs.path("run"), 70.0)
    with open(os.path.join(run_dir, "log.txt-2026-01-02-03-04-05"), "w") as other:
        other.write("Finish training\n=> result\n* accuracy: 99.9%\n")
    result, _ = load_run_result(run_dir, TRAIN_END_SIGNALS)
    assert result.metrics["accuracy"] == 70.0


def test_broken_or_validation_result_json_falls_back_to_the_log(runs):
    run_dir = runs.run(runs.path("run"), 70.0)
    with open(os.path.join(run_dir, "result.json"), "w") as broken:
        broken.write("{not json")
    result, problems = load_run_result(run_dir, TRAIN_END_SIGNALS)
    assert result.metrics["accuracy"] == 70.0 and "unreadable" in problems[0]

    runs.run(run_dir, 70.0, json_accuracy=95.0, json_fields={"split": "val"})
    result, problems = load_run_result(run_dir, TRAIN_END_SIGNALS)
    assert result.metrics["accuracy"] == 70.0 and "'val'" in problems[0]


def test_result_json_of_another_subsample_is_rejected(runs):
    run_dir = runs.run(
        runs.path("run"), 70.0, json_accuracy=70.01, json_fields={"subsample": "base"}
    )
    result, problems = load_run_result(run_dir, TEST_END_SIGNALS, expected={"subsample": "new"})
    assert result is None
    assert "subsample='base'" in problems[0]


def test_unfinished_training_log_gives_no_result_and_says_why(runs):
    run_dir = runs.path("run")
    os.makedirs(run_dir)
    with open(os.path.join(run_dir, "log.txt"), "w") as log_file:
        log_file.write("epoch [1/50]\n=> result\n* accuracy: 50.0%\n")
    result, problems = load_run_result(run_dir, TRAIN_END_SIGNALS)
    assert result is None and "unfinished" in problems[0]

    result, problems = load_run_result(runs.path("nowhere"), TRAIN_END_SIGNALS)
    assert result is None and "no result.json and no log.txt" in problems[0]


def test_info_keeps_descriptive_fields(runs):
    run_dir = runs.run(
        runs.path("run"), 70.0, json_accuracy=70.0, json_fields={"backbone": "ViT-B/16", "seed": 2}
    )
    result, _ = load_run_result(run_dir, TRAIN_END_SIGNALS, expected={"seed": 2})
    assert result.info["backbone"] == "ViT-B/16"
    assert result.metrics["seed"] == 2.0
    with open(os.path.join(run_dir, "result.json")) as json_file:
        assert json.load(json_file)["accuracy"] == 70.0


def test_error_keyword_reads_dassls_error_rate_from_result_json(runs):
    run_dir = runs.run(
        runs.path("run"), 70.0, json_accuracy=70.25, json_fields={"error_rate": 29.75}
    )
    with open(os.path.join(run_dir, "result.json")) as json_file:
        content = json.load(json_file)
    del content["error"]
    with open(os.path.join(run_dir, "result.json"), "w") as json_file:
        json.dump(content, json_file)
    result, problems = load_run_result(run_dir, TRAIN_END_SIGNALS, metric="error")
    assert result.metrics["error"] == 29.75 and problems == []
