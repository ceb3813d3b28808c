"""A family option name read as ours leaves one line in the run's log."""

from tests.reliability.train_args import toy_argv


def test_an_alias_is_noted_once_in_the_run_log(toy, tmp_path, run_train):
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, "TRAINER.COOP.CTX_INIT", "False"))
    assert result.status == 0, result.err
    notes = [
        line
        for line in (output_dir / "log.txt").read_text().splitlines()
        if line.startswith("Config note:")
    ]
    assert notes == [
        'Config note: TRAINER.COOP.CTX_INIT False read as TRAINER.COOP.CTX_INIT "" '
        "(random context) (on the command line)"
    ]
