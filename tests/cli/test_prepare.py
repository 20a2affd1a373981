import json
import subprocess
import sys

import pytest

from lla.cli.main import main


def test_prepare_and_info(tmp_path, capsys):
    src = tmp_path / "docs.txt"
    src.write_text("the cat sat on the mat\nthe dog sat on the log too\n", encoding="utf-8")
    assert main(["prepare", str(src), "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "documents" in out and "training prefixes" in out
    assert main(["info", str(tmp_path / "c"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["statistics"]["n_docs"] == 2 and info["statistics"]["n_tokens"] == 13


def test_prepare_events_flags(tmp_path, capsys):
    src = tmp_path / "log.csv"
    src.write_text("uid;song;when\n1;a;2\n1;b;1\n2;c;5\n2;a;6\n2;b;7\n", encoding="utf-8")
    assert main(["prepare", str(src), "--format", "events", "--user-column", "uid",
                 "--item-column", "song", "--time-column", "when", "--delimiter", ";",
                 "--out", str(tmp_path / "c"), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["n_docs"] == 2 and stats["n_tokens"] == 5


@pytest.mark.parametrize("setup,args,message", [
    (None, ["prepare", "{tmp}/missing.txt", "--out", "{tmp}/c"], "missing.txt: no such file"),
    ("", ["prepare", "{tmp}/in.txt", "--out", "{tmp}/c"], "in.txt: no documents found"),
    ("a b\n", ["prepare", "{tmp}/in.txt", "--out", "{tmp}/c", "--min-doc-tokens", "9"],
     "no documents left after filtering"),
    ("a b\n", ["prepare", "{tmp}/in.txt", "--out", "{tmp}/c", "--min-count", "5"],
     "the vocabulary is empty"),
    ("x\n", ["prepare", "{tmp}/in.txt", "--format", "jsonl", "--out", "{tmp}/c"],
     "in.txt:1: not valid JSON"),
    ("a b\n", ["prepare", "{tmp}/in.txt", "--format", "events", "--out", "{tmp}/c"],
     "in.txt:1: no column 'user'"),
    ("a b\n", ["prepare", "{tmp}/in.txt", "--out", "{tmp}"], "already exists"),
    ("a b\n", ["info", "{tmp}"], "meta.json missing"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, setup, args, message):
    if setup is not None:
        (tmp_path / "in.txt").write_text(setup, encoding="utf-8")
    code = main([a.format(tmp=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow
def test_not_utf8_via_subprocess_no_traceback(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"ok\n\xc3\x28\n")
    r = subprocess.run([sys.executable, "-m", "lla", "prepare", str(tmp_path / "bad.txt"),
                        "--out", str(tmp_path / "c")], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().endswith("bad.txt:2: not valid UTF-8") and "Traceback" not in r.stderr
    assert not (tmp_path / "c").exists() and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("command", [[], ["prepare"], ["info"]])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        main(command + ["--help"])
    assert e.value.code == 0
    assert "usage: lla" in capsys.readouterr().out


def test_prepare_loo_with_item_names(tmp_path, capsys):
    src = tmp_path / "log.csv"
    src.write_text("user,item,timestamp\n" + "".join(f"1,{i},{t}\n" for t, i in enumerate("abcde")),
                   encoding="utf-8")
    names = tmp_path / "names.csv"
    names.write_text("a,Apple\nb,Banana\ne,Elderberry\n", encoding="utf-8")
    assert main(["prepare", str(src), "--format", "events", "--protocol", "loo",
                 "--item-names", str(names), "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "protocol loo" in out and "test targets (loo)" in out
    assert "item names" in out and "2 of 3 types" in out
    assert main(["info", str(tmp_path / "c"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["protocol"] == "loo" and info["statistics"]["n_test_targets"] == 1


@pytest.mark.parametrize("extra,message", [
    (["--protocol", "loo", "--split", "0.5"], "--split applies to --protocol prefix60 only"),
    (["--item-names", "x", "--no-item-names"], "not both"),
])
def test_prepare_conflicting_flags(tmp_path, capsys, extra, message):
    (tmp_path / "in.txt").write_text("a b c\n", encoding="utf-8")
    assert main(["prepare", str(tmp_path / "in.txt"), "--out", str(tmp_path / "c")] + extra) == 2
    assert message in capsys.readouterr().err
