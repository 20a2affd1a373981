"""The fault catalogue of docs/reliability.md, end to end through the ``lla`` command.

Every case: one line on stderr naming the file or flag and the problem, exit status 2 (141 for
a closed pipe), no traceback, and nothing half-written left behind.  Cases that need a real
process (kill -9, a file-size limit, a closed pipe) run ``python -m lla`` in a subprocess; the
others call :func:`lla.cli.main.main` in this process.
"""

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lla import LDA, Corpus
from lla._atomic import _host
from lla.cli.main import main

LLA = [sys.executable, "-m", "lla"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
       "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1] / "src"),
                                                   os.environ.get("PYTHONPATH")]))}


def _fails_with_one_line(capsys, argv, message, code=2):
    """Run ``lla argv`` in-process; assert the exit status and one stderr line with ``message``."""
    status = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert status == code, err
    assert message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def _leftovers(folder, keep=()):
    return sorted(p.name for p in Path(folder).iterdir() if p.name not in keep)


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("the cat sat on the mat\nthe dog sat on the log too\n" * 50, encoding="utf-8")
    return path


# -- lla prepare: where the corpus goes -----------------------------------------------------
def test_prepare_out_below_a_regular_file(tmp_path, text, capsys):
    (tmp_path / "file").write_text("x")
    _fails_with_one_line(capsys, ["prepare", text, "--out", tmp_path / "file" / "corpus"],
                         "file/corpus: cannot write: Not a directory (errno 20)")
    assert _leftovers(tmp_path) == ["file", "in.txt"]


def test_prepare_out_on_a_read_only_file_system(tmp_path, text, capsys, monkeypatch):
    """Errno 30 (root ignores chmod, so the file system's answer is simulated)."""
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), kwargs.get("dir"))
    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    _fails_with_one_line(capsys, ["prepare", text, "--out", tmp_path / "corpus"],
                         "corpus: cannot write: Read-only file system (errno 30)")
    assert _leftovers(tmp_path) == ["in.txt"]


def test_prepare_disk_full_midway(tmp_path, text, capsys, monkeypatch):
    """Errno 28 after tokens.npy was written: the temporary directory goes, nothing is left."""
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(np, "save", full)
    _fails_with_one_line(capsys, ["prepare", text, "--out", tmp_path / "corpus"],
                         "corpus: cannot write: No space left on device (errno 28)")
    assert _leftovers(tmp_path) == ["in.txt"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs resource limits (POSIX)")
def test_prepare_file_size_limit_real_process(tmp_path):
    """A real write failure (EFBIG under a 64 kB file-size limit) in a real process."""
    import resource
    words = " ".join(f"w{i}" for i in range(1000))
    (tmp_path / "in.txt").write_text(f"{words}\n" * 50, encoding="utf-8")  # 50k tokens

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, 64 << 10))
    r = subprocess.run(LLA + ["prepare", "in.txt", "--out", "corpus"], cwd=tmp_path, env=ENV,
                       capture_output=True, text=True, preexec_fn=limit, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr == "lla prepare: error: corpus: cannot write: File too large (errno 27)\n"
    assert _leftovers(tmp_path) == ["in.txt"]


def test_prepare_progress_flags(tmp_path, text, capsys):
    assert main(["prepare", str(text), "--out", str(tmp_path / "a"), "--no-progress"]) == 0
    assert main(["prepare", str(text), "--out", str(tmp_path / "b"), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "prepare" in err  # the bar was drawn although stderr is not a terminal


# -- kill -9 during prepare --------------------------------------------------------------------
def _prepare_blocked_on_a_fifo(tmp_path, name):
    """Start ``lla prepare FIFO --out tmp_path/c`` and feed it a little input, so that it sits
    inside its temporary directory waiting for more.  Returns (process, fifo writer)."""
    fifo = tmp_path / f"{name}.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(LLA + ["prepare", str(fifo), "--out", str(tmp_path / "c")],
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:  # opening the writing end succeeds once the reader has opened the FIFO
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as e:
            if e.errno != errno.ENXIO or proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"prepare did not start: {proc.stderr.read()}") from None
            time.sleep(0.05)
    os.set_blocking(fd, True)
    writer = os.fdopen(fd, "w")
    writer.write("a b c d\n" * 100)
    writer.flush()
    return proc, writer


def _temporaries(tmp_path, pid):
    return [p for p in tmp_path.iterdir() if p.name.startswith(f".c.tmp-{pid}@{_host()}-")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_kill_9_during_prepare_is_cleaned_up_by_the_next_run(tmp_path, text, capsys):
    dead, writer = _prepare_blocked_on_a_fifo(tmp_path, "dead")
    deadline = time.monotonic() + 30
    while not _temporaries(tmp_path, dead.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    dead.send_signal(signal.SIGKILL)
    dead.wait()
    writer.close()
    (stale,) = _temporaries(tmp_path, dead.pid)  # what kill -9 leaves: .c.tmp-PID@HOST-*
    assert not (tmp_path / "c").exists()

    live, live_writer = _prepare_blocked_on_a_fifo(tmp_path, "live")
    try:
        deadline = time.monotonic() + 30
        while not _temporaries(tmp_path, live.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert main(["prepare", str(text), "--out", str(tmp_path / "c"), "--no-progress"]) == 0
        assert not stale.exists()                           # the dead process's: removed
        assert len(_temporaries(tmp_path, live.pid)) == 1   # a live process's: untouched
        assert Corpus.open(tmp_path / "c").n_docs == 100
    finally:
        live.kill()
        live.wait()
        live_writer.close()


# -- lla prepare: bad input --------------------------------------------------------------------
@pytest.mark.parametrize("name,content,args,message", [
    ("in.txt", None, [], "in.txt: no such file"),
    ("in.txt", b"", [], "in.txt: no documents found (empty input?)"),
    ("in.txt", b"ok\n\xc3\x28\n", [], "in.txt:2: not valid UTF-8"),
    ("in.txt.xz", b"\xfd7zXZ\x00damaged", [], "in.txt.xz: cannot read compressed data"),
    ("in.txt", b'{"text": "a"}\nnot json\n', ["--format", "jsonl"], "in.txt:2: not valid JSON"),
    ("in.txt", b"user,item,timestamp\nu,a,3\nu,b,1\nu,c,yesterday\n", ["--format", "events"],
     "in.txt:4: column 'timestamp': 'yesterday' is neither a number nor an ISO date/time"),
    ("in.txt", b"user,item,timestamp\nu,a,1462060800\nu,b,2016-05-01\n", ["--format", "events"],
     "in.txt:3: column 'timestamp': '2016-05-01' is an ISO date but line 2 holds the number"),
])
def test_prepare_bad_input(tmp_path, capsys, name, content, args, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    _fails_with_one_line(capsys, ["prepare", tmp_path / name, "--out", tmp_path / "c"] + args,
                         message)
    assert not (tmp_path / "c").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# -- saved models: damaged or hostile files ------------------------------------------------
@pytest.fixture(scope="module")
def lda_dir(tmp_path_factory):
    rng = np.random.default_rng(0)
    docs = [rng.integers(1, 20, 30) for _ in range(10)]
    root = tmp_path_factory.mktemp("faults")
    corpus = Corpus.from_documents(docs, 20)
    corpus.save(root / "corpus")
    LDA(3, n_iter=3, n_threads=1, random_state=0).fit(Corpus.open(root / "corpus")).save(
        root / "lda")
    return root / "lda"


def _edit_json(key, value):
    def edit(d):
        doc = json.loads((d / "model.json").read_text())
        doc[key] = value(doc) if callable(value) else value
        (d / "model.json").write_text(json.dumps(doc))
    return edit


def _replace(name, make):
    def edit(d):
        (d / name).unlink()
        make(d / name)
    return edit


_DEEP = '{"params": ' + "[" * 200_000 + "]" * 200_000 + "}"


@pytest.mark.parametrize("damage,message", [
    (_edit_json("params", lambda doc: {**doc["params"], "n_topicz": 3}),
     "model.json: unknown lda parameter 'n_topicz' (known: alpha, beta,"),
    (_edit_json("params", [3]), "model.json: 'params' must be a JSON object, got list [3]"),
    (_edit_json("state", "x"), "model.json: 'state' must be a JSON object, got str 'x'"),
    (_edit_json("format_version", "1"), "model.json: format_version must be an integer, got '1'"),
    (_edit_json("format_version", -1), "model.json: format_version must be >= 1, got -1"),
    (_edit_json("format_version", 2), "model.json: format version 2 is newer than this lla"),
    (_edit_json("model", "nonsense"), "model.json: unknown model type 'nonsense'"),
    (_edit_json("model", []), "model.json: unknown model type []"),
    (_replace("model.json", lambda p: p.write_text(_DEEP)),
     "model.json: corrupt model.json (nested 200001 levels deep, more than 64)"),
    (_replace("model.json", lambda p: p.symlink_to("/dev/zero")),
     "model.json: not a regular file"),
    (_replace("model.json", lambda p: p.write_text("{broken")), "model.json: corrupt model.json"),
    (_replace("model.json", lambda p: p.write_bytes(b"")), "model.json: corrupt model.json"),
    (lambda d: (d / "model.json").unlink(), "not a saved lla model (model.json missing)"),
    (_replace("arrays.safetensors", lambda p: p.write_bytes(b"garbage")),
     "cannot read arrays.safetensors"),
    (lambda d: (d / "arrays.safetensors").write_bytes(
        (d / "arrays.safetensors").read_bytes()[:200]), "cannot read arrays.safetensors"),
    (lambda d: (d / "arrays.safetensors").unlink(), "cannot read arrays.safetensors"),
])
def test_damaged_model_files(tmp_path, capsys, lda_dir, damage, message):
    model = tmp_path / "m"
    shutil.copytree(lda_dir, model)
    damage(model)
    _fails_with_one_line(capsys, ["topics", model], message)


def _edit_meta(key, value):
    def edit(d):
        meta = json.loads((d / "meta.json").read_text())
        meta[key] = value
        (d / "meta.json").write_text(json.dumps(meta))
    return edit


@pytest.mark.parametrize("damage,message", [
    (_replace("meta.json", lambda p: p.write_text(_DEEP)), "nested 200001 levels deep"),
    (_replace("meta.json", lambda p: p.symlink_to("/dev/zero")), "meta.json: not a regular file"),
    (_edit_meta("format_version", "1"), "meta.json: format_version must be an integer, got '1'"),
    (_edit_meta("split_fraction", "abc"),
     "meta.json: split_fraction must be a number strictly between 0 and 1, got 'abc'"),
    (_edit_meta("split_fraction", 1.5), "split_fraction must be a number strictly between 0 and 1"),
    (lambda d: (d / "meta.json").unlink(), "not a corpus directory (meta.json missing)"),
])
def test_damaged_corpus_metadata(tmp_path, capsys, lda_dir, damage, message):
    """meta.json goes through the same reader as model.json."""
    corpus = tmp_path / "c"
    shutil.copytree(lda_dir.parent / "corpus", corpus)
    damage(corpus)
    _fails_with_one_line(capsys, ["info", corpus], message)


def _save_npy(name, make):
    def edit(d):
        np.save(d / name, make(np.load(d / name)))
    return edit


@pytest.mark.parametrize("damage,message", [
    (_replace("tokens.npy", lambda p: p.write_bytes(b"garbage")), "c: cannot read the token arrays"),
    (_save_npy("offsets.npy", lambda o: o[:-1]), "c: token arrays are inconsistent (corrupt store)"),
    (_save_npy("tokens.npy", lambda t: t.astype(np.int64)), "token arrays are inconsistent"),
    (_replace("vocab.tsv", lambda p: p.write_text("x\ty\n")),
     "vocab.tsv:1: expected 'id<TAB>type<TAB>count'"),
    (lambda d: (d / "vocab.tsv").write_text("".join(
        (d / "vocab.tsv").read_text().splitlines(keepends=True)[:5])),
     "c: vocab.tsv holds 5 entries but meta.json records vocab_size = 20 (corrupt store)"),
    (lambda d: (d / "doc_ids.txt").write_bytes(b"\xff\n"), "doc_ids.txt: not valid UTF-8 (byte 0)"),
])
def test_damaged_corpus_store(tmp_path, capsys, lda_dir, damage, message):
    corpus = tmp_path / "c"
    shutil.copytree(lda_dir.parent / "corpus", corpus)
    damage(corpus)
    _fails_with_one_line(capsys, ["info", corpus], message)


# -- what a user meets -------------------------------------------------------------------------
def test_saved_model_files_are_readable_like_any_file(tmp_path, lda_dir):
    mask = os.umask(0o022)
    try:
        model = LDA(3, n_iter=1, n_threads=1, random_state=0)
        model.fit(Corpus.open(lda_dir.parent / "corpus")).save(tmp_path / "m")
    finally:
        os.umask(mask)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "m").iterdir()}
    assert modes == {"model.json": 0o644, "arrays.safetensors": 0o644}


def test_broken_pipe_in_process(capsys, lda_dir, monkeypatch):
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["topics", str(lda_dir)]) == 141
    assert capsys.readouterr().err == ""


def test_broken_pipe_real_process(lda_dir):
    """`lla topics MODEL | head -0`: the reader is gone before lla writes."""
    proc = subprocess.Popen(LLA + ["topics", str(lda_dir), "--top", "5"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs resource limits (POSIX)")
def test_absurd_number_of_topics_is_refused(lda_dir):
    """--topics 1000000000: 37 GiB of count matrices even on this 10-document corpus (3.43 TiB on
    wiki), refused with one line, not a traceback.  Run under an 8 GiB address-space limit so
    that the test means the same on every machine, whatever its memory and over-commit policy."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
    out = lda_dir.parent / "huge"
    r = subprocess.run(LLA + ["train", str(lda_dir.parent / "corpus"), "--model", "lda",
                              "--topics", "1000000000", "--iterations", "1", "--threads", "1",
                              "--no-progress", "--out", str(out)],
                       env=ENV, capture_output=True, text=True, preexec_fn=limit, timeout=300)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("lla train: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "memory" in r.stderr and "GiB" in r.stderr
    assert not out.exists()


# -- training and scoring: the model side ---------------------------------------------------------
@pytest.fixture(scope="module")
def events(tmp_path_factory):
    """A small synthetic event corpus (user data) in a corpus directory."""
    from lla.data.synthetic import generate
    root = tmp_path_factory.mktemp("model-faults")
    generate(n_docs=30, doc_length=40, n_topics=3, vocab_size=30, seed=0).corpus.save(
        root / "corpus")
    return root / "corpus"


_TINY_LLA = ["--model", "topic-lla", "--topics", "3", "--hidden", "4", "--embedding", "4",
             "--init-lda-iterations", "3", "--init-lstm-epochs", "1", "--lstm-epochs", "1",
             "--threads", "1", "--seed", "0", "--no-progress"]


def test_divergent_training_stops_with_one_line_and_saves_nothing(events, tmp_path, capsys):
    """--learning-rate 1e9 used to exit 0 with every LSTM weight NaN (then "perplexity nan, HR@10
    1.0000"): training now stops at the first non-finite loss and names the flag."""
    err = _fails_with_one_line(capsys, ["train", events, *_TINY_LLA, "--iterations", "2",
                                        "--batch-size", "1", "--learning-rate", "1e9",
                                        "--out", tmp_path / "m"], "training diverged")
    assert "--learning-rate" in err and not (tmp_path / "m").exists()


def test_divergence_keeps_the_last_finite_checkpoint(events, tmp_path):
    import lla
    import torch

    def poison(model, iteration, stats):
        if iteration == 1:          # the next M-step meets NaN weights
            with torch.no_grad():
                next(model.dynamics_.parameters()).fill_(float("nan"))
    model = lla.TopicLLA(3, embedding_size=4, hidden_size=4, n_iter=3, init_lda_iter=3,
                         init_lstm_epochs=1, lstm_epochs_per_iter=1, n_threads=1,
                         random_state=0, show_progress=False, checkpoint_dir=tmp_path / "ck")
    with pytest.raises(lla.TrainingDiverged, match="keeps iteration 1, the last finite one"):
        model.fit(Corpus.open(events), callback=poison)
    kept = lla.load_model(tmp_path / "ck")
    assert kept.n_iter_done_ == 1 and np.isfinite(kept.perplexity(Corpus.open(events)))


def test_scoring_refuses_a_model_with_nan_weights(events, tmp_path, capsys):
    import lla
    import torch
    model = lla.WordLSTM(4, 4, n_epochs=1, validation=False, random_state=0).fit(
        Corpus.open(events))
    with torch.no_grad():
        model.module_.output.weight.fill_(float("nan"))
    model.save(tmp_path / "nan")
    _fails_with_one_line(capsys, ["evaluate", tmp_path / "nan", "--json"],
                         "NaN log-probability")


def test_nan_scores_are_never_hits():
    from lla.evaluation import rank_of_true
    scores = np.array([[0.1, np.nan, 0.3], [np.nan, np.nan, np.nan]])
    assert rank_of_true(scores, [1, 0]).tolist() == [3, 3]


def test_a_corpus_with_the_same_vocabulary_size_but_other_types_is_refused(events, tmp_path,
                                                                           capsys):
    """Scored on another corpus whose vocabulary merely has the same size, a model used to give a
    plausible number (967.1 for wiki's LDA on another 20,001-type corpus)."""
    corpus = Corpus.open(events)
    renamed = [t if i == 0 else f"item{i}" for i, t in enumerate(corpus.vocab.types)]
    from lla import Vocabulary
    other = Corpus(np.asarray(corpus.tokens), np.asarray(corpus.offsets),
                   Vocabulary(renamed, corpus.vocab.counts))
    other.save(tmp_path / "renamed")
    LDA(3, n_iter=2, n_threads=1, random_state=0).fit(corpus).save(tmp_path / "lda")
    err = _fails_with_one_line(capsys, ["evaluate", tmp_path / "lda", tmp_path / "renamed"],
                               "vocabulary is not the model's")
    assert "trained on" in err and "renamed" in err


def test_evaluate_says_the_model_was_interrupted(events, tmp_path, capsys, monkeypatch):
    """Ctrl-C during SEM iteration 2: lla train keeps iteration 1, saves it and exits 130 (a
    script can tell); lla evaluate then says the model is not the training asked for."""
    from lla.inference import sem
    real = sem.sem_iteration

    def interrupted(*args, **kwargs):
        if interrupted.calls == 1:
            raise KeyboardInterrupt
        interrupted.calls += 1
        return real(*args, **kwargs)
    interrupted.calls = 0
    monkeypatch.setattr(sem, "sem_iteration", interrupted)
    assert main([str(a) for a in ["train", events, *_TINY_LLA, "--iterations", "3",
                                  "--out", tmp_path / "m"]]) == 130
    err = capsys.readouterr().err
    assert "interrupted after 1 of 3 SEM iterations" in err and (tmp_path / "m").exists()
    assert main(["evaluate", str(tmp_path / "m"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["interrupted"] == "interrupted after 1 of 3 SEM iterations"
    assert "note: this model's training was interrupted" in captured.err


def test_resume_from_an_empty_or_mistyped_checkpoint_directory(events, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for ck in (tmp_path / "empty", tmp_path / "mistyped"):
        _fails_with_one_line(capsys, ["train", events, *_TINY_LLA, "--checkpoint-dir", ck,
                                      "--resume", "--out", tmp_path / "m"],
                             "no checkpoint to resume from")


def test_out_is_checked_before_training(events, tmp_path, capsys, monkeypatch):
    import lla

    def never(*args, **kwargs):
        raise AssertionError("training started")
    monkeypatch.setattr(lla.LDA, "fit", never)
    (tmp_path / "file").write_text("x")
    _fails_with_one_line(capsys, ["train", events, "--model", "lda", "--out",
                                  tmp_path / "file" / "model"], "cannot write")


def test_a_finished_model_is_saved_elsewhere_when_out_fails(events, tmp_path, capsys,
                                                           monkeypatch):
    """The disk fills up (or the directory goes) after training: the model goes to a new
    temporary directory and the one-line error says where."""
    import lla
    from lla.errors import OutputError
    real = lla.Model.save

    def full_once(self, path, **kwargs):
        if Path(path) == tmp_path / "m":
            raise OutputError(f"{path}: cannot write: No space left on device (errno 28)")
        return real(self, path, **kwargs)
    monkeypatch.setattr(lla.Model, "save", full_once)
    err = _fails_with_one_line(capsys, ["train", events, "--model", "lda", "--topics", "3",
                                        "--iterations", "2", "--out", tmp_path / "m"],
                               "the trained model was saved to")
    rescued = Path(err.rsplit("saved to ", 1)[1].split(" instead")[0])
    assert lla.load_model(rescued).n_iter_done_ == 2


def test_errors_name_flags_not_parameters(events, tmp_path, capsys):
    for argv, message in ((["--model", "lda", "--topics", "0"], "--topics must be"),
                          (["--model", "lda", "--seed", "-3"], "--seed must be a non-negative"),
                          (["--model", "lda", "--kernel", "window"],
                           "--kernel does not apply to --model lda")):
        _fails_with_one_line(capsys, ["train", events, *argv, "--out", tmp_path / "m"], message)
