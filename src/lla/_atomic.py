"""Atomic writes: build in a temporary sibling, then rename into place (DESIGN §8)."""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from .errors import InputError


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_mode(directory=False):
    """The mode a plain ``open`` / ``mkdir`` would give (mkstemp / mkdtemp use 0600 / 0700)."""
    return (0o777 if directory else 0o666) & ~_umask()


@contextlib.contextmanager
def atomic_directory(path, force=False):
    """Yield a temporary directory that becomes ``path`` only if the block succeeds.

    An existing ``path`` is an error unless ``force``; with ``force`` it is replaced only after
    the new directory is complete, so an interrupted write never damages what was there.
    """
    path = Path(path)
    if path.exists() and not force:
        raise InputError("already exists (use --force / force=True to replace it)", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        os.chmod(tmp, _default_mode(directory=True))
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        os.rename(path, old / "x")
        os.rename(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, path)


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode("utf-8"))
