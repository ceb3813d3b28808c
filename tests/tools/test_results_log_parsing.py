from fake_run_writer import dassl_result_block, eval_only_log, training_log

from tools.results.log_parsing import (
    TEST_END_SIGNALS,
    TRAIN_END_SIGNALS,
    end_signals_for,
    last_block_with,
    read_result_blocks,
)


def test_dassl_block_is_read_with_counts_and_percentages():
    blocks = read_result_blocks(training_log(87.3, total=12345), TRAIN_END_SIGNALS)
    assert blocks == [
        {
            "total": 12345.0,
            "correct": float(round(12345 * 0.873)),
            "accuracy": 87.3,
            "error": 12.7,
            "macro_f1": 86.9,
        }
    ]


def test_both_training_end_signals_are_accepted():
    for signal in ("Finish training", "Finished training", "both"):
        blocks = read_result_blocks(training_log(71.4, signal=signal), TRAIN_END_SIGNALS)
        assert last_block_with(blocks, "accuracy")["accuracy"] == 71.4, signal


def test_validation_result_before_the_end_signal_is_ignored():
    blocks = read_result_blocks(training_log(80.0, val_accuracy=99.0), TRAIN_END_SIGNALS)
    assert [block["accuracy"] for block in blocks] == [80.0]


def test_the_last_result_block_after_the_signal_wins():
    lines = training_log(80.0) + ["Evaluate again"] + dassl_result_block(82.5)
    assert last_block_with(read_result_blocks(lines, TRAIN_END_SIGNALS), "accuracy") == {
        "total": 1000.0,
        "correct": 825.0,
        "accuracy": 82.5,
        "error": 17.5,
        "macro_f1": 82.1,
    }


def test_eval_only_log_needs_the_result_header_as_signal():
    lines = eval_only_log(64.2)
    assert read_result_blocks(lines, TRAIN_END_SIGNALS) == []
    assert (
        last_block_with(read_result_blocks(lines, TEST_END_SIGNALS), "accuracy")["accuracy"] == 64.2
    )
    assert end_signals_for(True) == TEST_END_SIGNALS
    assert end_signals_for(False) == TRAIN_END_SIGNALS


def test_signal_must_be_the_whole_line_and_per_class_lines_are_not_metrics():
    lines = [
        "Not Finish training yet",
        "=> result",
        "* accuracy: 10.0%",
        "  Finish training  ",
        "=> per-class result",
        "* class: 0 (dog)\ttotal: 10\tcorrect: 9\tacc: 90.0%",
        "* average: 55.5%",
    ]
    blocks = read_result_blocks(lines, TRAIN_END_SIGNALS)
    assert blocks == [{"average": 55.5}]
    assert last_block_with(blocks, "accuracy") is None
