"""Atomic writes: build in a temporary sibling, then rename into place (DESIGN §8).

Temporaries are hidden siblings of the target, named after it and after the process that owns
them: ``.NAME.tmp-PID@HOST-XXXXXXXX`` (``.NAME.old-...`` for a directory being replaced).  A
process killed before it could clean up (``kill -9``, a power cut) leaves one behind; the next
atomic write to the same target removes the temporaries whose owner is known to be dead — a
process of this host that no longer exists — and never touches the work of a live process or
of another host.

Every file and directory written gets the permissions a plain ``open`` / ``mkdir`` would give
(0666 / 0777 minus the umask), whatever wrote it: ``mkstemp`` / ``mkdtemp`` and some libraries
(safetensors) create them 0600 / 0700.

A target that cannot be written — a read-only file system, a full disk, a path below a regular
file, no permission — is reported as :class:`lla.errors.OutputError` naming the target and the
problem, one line; nothing half-written is left.
"""

import contextlib
import errno
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

from .errors import InputError, OutputError

# errno values that say "this place cannot be written", whatever file the call touched (other
# errors count as write problems only when they name a file inside the temporary)
_WRITE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG}


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_mode(directory=False):
    """The mode a plain ``open`` / ``mkdir`` would give (mkstemp / mkdtemp use 0600 / 0700)."""
    return (0o777 if directory else 0o666) & ~_umask()


def _fix_modes(root):
    """Give ``root`` and everything below it the default modes (regular files and directories;
    links are left alone)."""
    file_mode, dir_mode = _default_mode(), _default_mode(directory=True)
    os.chmod(root, dir_mode if os.path.isdir(root) else file_mode)
    if os.path.isdir(root) and not os.path.islink(root):
        for parent, dirs, files in os.walk(root):
            for d in dirs:
                p = os.path.join(parent, d)
                if not os.path.islink(p):
                    os.chmod(p, dir_mode)
            for f in files:
                p = os.path.join(parent, f)
                if not os.path.islink(p):
                    os.chmod(p, file_mode)


# -- temporaries and their owners ------------------------------------------------------------
def _host():
    """This host's name, reduced to characters that are safe in a file name."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "localhost"


def _owner_tag():
    return f"{os.getpid()}@{_host()}"


def _temp_prefix(path, kind="tmp"):
    """Prefix of a temporary sibling of ``path``: ``.NAME.tmp-PID@HOST-``."""
    return f".{Path(path).name}.{kind}-{_owner_tag()}-"


def _pid_alive(pid):
    """True unless process ``pid`` certainly does not exist on this host."""
    if pid <= 0 or os.name == "nt":  # on Windows os.kill(pid, 0) would terminate the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: keep its files
    return True


def stale_temporaries(path):
    """Temporaries of target ``path`` left by dead processes of this host:
    ``[(kind, temporary path)]`` with kind ``"tmp"`` or ``"old"``."""
    path = Path(path)
    pattern = re.compile(r"\.(tmp|old)-(\d+)@(.+)-[a-z0-9_]+")  # mkstemp's suffix has no "-"
    prefix = f".{path.name}."
    host = _host()
    found = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return found
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        m = pattern.fullmatch(entry.name[len(prefix) - 1:])
        if m is None or m.group(3) != host or _pid_alive(int(m.group(2))):
            continue
        found.append((m.group(1), Path(entry.path)))
    return found


def remove_stale_temporaries(path):
    """Remove what dead processes left while writing ``path`` (see the module docstring).

    A ``.old-`` directory holds the previous version of a directory that was being replaced;
    if the process died between the two renames (``path`` missing), the previous version is
    put back rather than deleted.  Returns the paths removed or restored.
    """
    path = Path(path)
    done = []
    for kind, tmp in sorted(stale_temporaries(path)):  # "old" before "tmp"
        with contextlib.suppress(OSError):
            if kind == "old" and (tmp / "x").exists() and not os.path.lexists(path):
                os.rename(tmp / "x", path)
            if tmp.is_dir() and not tmp.is_symlink():
                shutil.rmtree(tmp)
            else:
                tmp.unlink()
            done.append(tmp)
    return done


# -- errors ----------------------------------------------------------------------------------
def _is_write_problem(error, tmp=None):
    """Whether OSError ``error`` means "cannot write here" rather than a reading problem."""
    if not isinstance(error, OSError) or isinstance(error, (InputError, OutputError)):
        return False
    if error.errno in _WRITE_ERRNOS:
        return True
    name = getattr(error, "filename", None)
    return tmp is not None and name is not None and str(name).startswith(str(tmp))


def _output_error(error, path):
    problem = error.strerror or str(error)
    return OutputError(f"cannot write: {problem} (errno {error.errno})", path,
                       errno_=error.errno)


def _make_parent(path):
    """Create the folder that will hold ``path``; a regular file on the way is ENOTDIR (mkdir
    would say "File exists")."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR),
                                 str(path.parent)) from None


def check_writable(path, *, force=False):
    """Fail early, before any long computation, if ``path`` cannot be written atomically.

    Refuses an existing ``path`` unless ``force`` (:class:`InputError`), and creates and removes
    a temporary sibling (:class:`OutputError` naming ``path`` and the problem if that fails: a
    read-only file system, a path below a regular file, no permission).  Does not reserve disk
    space: a disk that fills up later is reported when it happens.
    """
    path = Path(path)
    if os.path.lexists(path) and not force:
        raise InputError("already exists (use --force / force=True to replace it)", path)
    try:
        _make_parent(path)
        tmp = tempfile.mkdtemp(prefix=_temp_prefix(path), dir=path.parent)
        os.rmdir(tmp)
    except OSError as e:
        raise _output_error(e, path) from None
    return path


# -- the writers -----------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_directory(path, force=False):
    """Yield a temporary directory that becomes ``path`` only if the block succeeds.

    An existing ``path`` is an error unless ``force``; with ``force`` it is replaced only after
    the new directory is complete, so an interrupted write never damages what was there.
    Stale temporaries of ``path`` (see the module docstring) are removed first.
    """
    path = Path(path)
    remove_stale_temporaries(path)
    if path.exists() and not force:
        raise InputError("already exists (use --force / force=True to replace it)", path)
    try:
        _make_parent(path)
        tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), dir=path.parent))
    except OSError as e:
        raise _output_error(e, path) from None
    try:
        yield tmp
        _fix_modes(tmp)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=_temp_prefix(path, "old"), dir=path.parent))
            os.rename(path, old / "x")
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if _is_write_problem(e, tmp):
            raise _output_error(e, path) from None
        raise


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    path = Path(path)
    remove_stale_temporaries(path)
    try:
        _make_parent(path)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), dir=path.parent)
    except OSError as e:
        raise _output_error(e, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if _is_write_problem(e, tmp):
            raise _output_error(e, path) from None
        raise


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode("utf-8"))
