import sys

from dassl.utils import setup_logger


def _tee(monkeypatch, output):
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # restored after the test
    path = setup_logger(output)
    return path


def test_printed_lines_are_teed_into_log_txt(tmp_path, monkeypatch, capsys):
    path = _tee(monkeypatch, str(tmp_path / "run"))
    print("epoch [1/2] batch [1/1]")
    sys.stdout.flush()
    sys.stdout.close()
    assert path == str(tmp_path / "run" / "log.txt")
    assert (tmp_path / "run" / "log.txt").read_text() == "epoch [1/2] batch [1/1]\n"
    assert "epoch [1/2] batch [1/1]" in capsys.readouterr().out


def test_existing_log_is_not_overwritten(tmp_path, monkeypatch):
    old = tmp_path / "train.log"
    old.write_text("old run\n")
    path = _tee(monkeypatch, str(old))
    print("new run")
    sys.stdout.close()
    assert old.read_text() == "old run\n"
    assert path.startswith(str(old) + "-") and open(path).read() == "new run\n"
