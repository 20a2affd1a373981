"""lla._atomic: permissions, stale temporaries of dead processes, unwritable targets."""

import errno
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from lla import Corpus, InputError, OutputError, Unigram
from lla._atomic import (_host, _temp_prefix, atomic_directory, atomic_write_text,
                         check_writable, remove_stale_temporaries, stale_temporaries)


def _dead_pid():
    """The pid of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _fake_temp(parent, name, pid, kind="tmp", host=None, directory=True):
    p = parent / f".{name}.{kind}-{pid}@{host or _host()}-abc_12xy"
    if directory:
        p.mkdir()
        (p / "tokens.raw").write_bytes(b"x" * 100)
    else:
        p.write_bytes(b"x")
    return p


@pytest.fixture
def umask_022():
    mask = os.umask(0o022)
    yield
    os.umask(mask)


def test_every_file_gets_the_usual_permissions(tmp_path, umask_022):
    """Files created 0600 inside the block (as safetensors does) end up 0644, folders 0755."""
    with atomic_directory(tmp_path / "d") as tmp:
        fd = os.open(tmp / "secret", os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
        (tmp / "sub").mkdir(mode=0o700)
        (tmp / "sub" / "f").write_text("x")
        os.chmod(tmp / "sub" / "f", 0o600)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "d").rglob("*")}
    assert modes == {"secret": 0o644, "sub": 0o755, "f": 0o644}
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_saved_model_arrays_are_0644(tmp_path, umask_022):
    c = Corpus.from_documents([np.array([1, 2, 3, 1, 1])], 4)
    Unigram().fit(c).save(tmp_path / "m")
    for name in ("model.json", "arrays.safetensors"):
        assert stat.S_IMODE((tmp_path / "m" / name).stat().st_mode) == 0o644, name


def test_umask_is_respected(tmp_path):
    mask = os.umask(0o077)
    try:
        atomic_write_text(tmp_path / "f.json", "{}")
        with atomic_directory(tmp_path / "d") as tmp:
            (tmp / "a").write_text("x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "f.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "d" / "a").stat().st_mode) == 0o600


def test_temporaries_are_named_after_target_process_and_host(tmp_path):
    with atomic_directory(tmp_path / "c") as tmp:
        assert tmp.name.startswith(f".c.tmp-{os.getpid()}@{_host()}-")
        assert tmp.parent == tmp_path
    assert _temp_prefix(tmp_path / "c") == f".c.tmp-{os.getpid()}@{_host()}-"


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    dead = _dead_pid()
    stale_dir = _fake_temp(tmp_path, "c", dead)
    stale_file = _fake_temp(tmp_path, "r.json", dead, directory=False)
    live = _fake_temp(tmp_path, "c", os.getpid())           # this process: alive
    elsewhere = _fake_temp(tmp_path, "c", dead, host="other-host")  # cannot tell: keep
    other_target = _fake_temp(tmp_path, "cc", dead)          # another target: not ours to judge
    assert [p for _, p in stale_temporaries(tmp_path / "c")] == [stale_dir]
    with atomic_directory(tmp_path / "c") as tmp:
        (tmp / "a").write_text("x")
    atomic_write_text(tmp_path / "r.json", "{}")
    assert not stale_dir.exists() and not stale_file.exists()
    assert live.exists() and elsewhere.exists() and other_target.exists()
    assert (tmp_path / "c" / "a").read_text() == "x"


def test_interrupted_replacement_puts_the_previous_version_back(tmp_path):
    """A process killed between the two renames of a --force replacement left the previous
    directory in .NAME.old-*/x and no NAME: the next run restores it, never deletes it."""
    old = _fake_temp(tmp_path, "c", _dead_pid(), kind="old", directory=False)
    old.unlink()
    old.mkdir()
    (old / "x").mkdir()
    (old / "x" / "meta.json").write_text("previous")
    remove_stale_temporaries(tmp_path / "c")
    assert (tmp_path / "c" / "meta.json").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]


def test_live_process_keeps_its_temporary(tmp_path):
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = _fake_temp(tmp_path, "c", p.pid)
        assert remove_stale_temporaries(tmp_path / "c") == []
        assert live.exists()
    finally:
        p.kill()
        p.wait()
    assert [q for _, q in stale_temporaries(tmp_path / "c")] == [live]


def test_path_below_a_regular_file_is_one_output_error(tmp_path):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "sub" / "c"
    for attempt in (lambda: check_writable(target),
                    lambda: atomic_write_text(target, "x"),
                    lambda: atomic_directory(target).__enter__()):
        with pytest.raises(OutputError, match=r"file/sub/c: cannot write: Not a directory") as e:
            attempt()
        assert e.value.errno == errno.ENOTDIR and isinstance(e.value, OSError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("code,text", [(errno.EROFS, "Read-only file system"),
                                       (errno.ENOSPC, "No space left on device")])
def test_write_errors_inside_the_block_name_the_target_and_leave_nothing(tmp_path, code, text):
    with pytest.raises(OutputError, match=rf"/c: cannot write: {text} \(errno {code}\)"):
        with atomic_directory(tmp_path / "c") as tmp:
            (tmp / "a").write_text("x")
            raise OSError(code, os.strerror(code))
    assert list(tmp_path.iterdir()) == []


def test_read_errors_inside_the_block_stay_what_they_are(tmp_path):
    """An error about some other file (an input) is not turned into a write error."""
    with pytest.raises(FileNotFoundError):
        with atomic_directory(tmp_path / "c"):
            open(tmp_path / "missing-input.txt")
    assert list(tmp_path.iterdir()) == []


def test_read_only_location(tmp_path, monkeypatch):
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path))
    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OutputError, match="c: cannot write: Read-only file system"):
        check_writable(tmp_path / "c")
    with pytest.raises(OutputError, match="r.json: cannot write: Read-only file system"):
        atomic_write_text(tmp_path / "r.json", "{}")


def test_check_writable(tmp_path):
    assert check_writable(tmp_path / "new" / "c") == tmp_path / "new" / "c"
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == []  # nothing left behind
    (tmp_path / "c").mkdir()
    with pytest.raises(InputError, match="already exists"):
        check_writable(tmp_path / "c")
    check_writable(tmp_path / "c", force=True)


def test_model_save_removes_a_dead_process_s_temporary(tmp_path):
    """Models and checkpoints are written by atomic_directory too (Model.save)."""
    stale = _fake_temp(tmp_path, "m", _dead_pid())
    c = Corpus.from_documents([np.array([1, 2, 3, 1, 1])], 4)
    Unigram().fit(c).save(tmp_path / "m")
    assert not stale.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["m"]
