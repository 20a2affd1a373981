"""lla.cli.main: how failures of any sub-command reach the user."""

import pytest

import lla.cli.info
from lla.cli.main import main


def _failing(exception):
    def run(args):
        raise exception
    return run


@pytest.mark.parametrize("exception,status,err", [
    (MemoryError("Unable to allocate 3.43 TiB for an array"), 2,
     "lla info: error: out of memory (Unable to allocate 3.43 TiB for an array)\n"),
    (BrokenPipeError(32, "Broken pipe"), 141, ""),
    (KeyboardInterrupt(), 130, "lla info: interrupted\n"),
])
def test_failures_become_one_line_and_a_status(monkeypatch, capsys, exception, status, err):
    monkeypatch.setattr(lla.cli.info, "run", _failing(exception))
    assert main(["info", "anything"]) == status
    captured = capsys.readouterr()
    assert captured.err == err and captured.out == ""
