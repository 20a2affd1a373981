"""The one reader of lla's JSON metadata files: ``model.json`` of a saved model and
``meta.json`` of a corpus store (DESIGN §8).

These files come from disk and may be damaged or hostile, so the reader bounds everything
before it trusts anything: only a regular file (never a device such as ``/dev/zero`` or a
FIFO, even through a symbolic link), at most :data:`MAX_BYTES` bytes, UTF-8, valid JSON, an
object nested at most :data:`MAX_DEPTH` levels deep, with the expected ``kind`` and an integer
``format_version`` in ``[1, current]``.  Every failure is one :class:`lla.InputError` line
naming the file and the problem.
"""

import json
import os
import stat
from pathlib import Path

import numpy as np

from .errors import InputError

MAX_BYTES = 16 << 20  # a metadata file is a few kB; arrays live in .safetensors / .npy files
MAX_DEPTH = 64        # lla writes at most 4 levels


def _nesting_depth(data):
    """Deepest nesting of ``[``/``{`` in JSON bytes ``data`` (UTF-8), brackets inside strings
    ignored (vectorised, so a hostile file costs O(bytes), never Python recursion)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size == 0:
        return 0
    quote = raw == ord('"')
    # a quote escaped by an odd number of backslashes does not open or close a string
    backslash = raw == ord("\\")
    if backslash.any():
        # length of the run of backslashes ending just before each position
        idx = np.arange(raw.size)
        last_non = np.maximum.accumulate(np.where(~backslash, idx, -1))
        run_before = np.empty(raw.size, dtype=np.int64)
        run_before[0] = 0
        run_before[1:] = idx[:-1] - last_non[:-1]
        quote &= run_before % 2 == 0
    inside = (np.cumsum(quote) - quote) % 2 == 1  # after an odd number of real quotes
    step = np.zeros(raw.size, dtype=np.int64)
    step[(raw == ord("[")) | (raw == ord("{"))] = 1
    step[(raw == ord("]")) | (raw == ord("}"))] = -1
    step[inside] = 0
    return int(np.cumsum(step).max(initial=0))


def read_bounded(path, max_bytes=MAX_BYTES):
    """The bytes of regular file ``path``; refuses other file types and larger files.
    Raises FileNotFoundError for a missing file (callers say what was expected there)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise
    except OSError as e:
        raise InputError(f"cannot read ({e.strerror})", path) from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError("not a regular file", path)
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputError(f"larger than {max_bytes:,} bytes: not an lla metadata file", path)
    return data


def read_json_document(path, *, kind, format_version, description, max_bytes=MAX_BYTES,
                       max_depth=MAX_DEPTH):
    """Read and check the JSON metadata file ``path``; returns the document (a dict).

    kind : the value ``doc["kind"]`` must have (``"lla-model"``, ``"lla-corpus"``)
    format_version : the newest version this lla reads; ``doc["format_version"]`` must be an
        integer in ``[1, format_version]``
    description : what the folder should be, for messages ("a saved lla model")

    A missing file is reported against its folder: ``DIR: not a saved lla model (model.json
    missing)``.
    """
    path = Path(path)
    try:
        data = read_bounded(path, max_bytes)
    except FileNotFoundError:
        raise InputError(f"not {description} ({path.name} missing)", path.parent) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"corrupt {path.name} (not UTF-8 at byte {e.start})", path) from None
    depth = _nesting_depth(data)
    if depth > max_depth:
        raise InputError(f"corrupt {path.name} (nested {depth} levels deep, more than "
                         f"{max_depth})", path)
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise InputError(f"corrupt {path.name} ({e})", path) from None
    if not isinstance(doc, dict) or doc.get("kind") != kind:
        raise InputError(f"not {description} (kind is not {kind!r})", path)
    check_format_version(doc.get("format_version"), format_version, path)
    return doc


def check_format_version(version, current, path):
    """``version`` must be an int (not a bool) in ``[1, current]``."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(f"format_version must be an integer, got {version!r}", path)
    if version < 1:
        raise InputError(f"format_version must be >= 1, got {version}", path)
    if version > current:
        raise InputError(f"format version {version} is newer than this lla understands "
                         f"({current}); upgrade lla", path)
    return version


def object_field(doc, key, path, default=None):
    """``doc[key]`` that must be a JSON object (dict); ``default`` (or {}) when absent."""
    value = doc.get(key, {} if default is None else default)
    if not isinstance(value, dict):
        raise InputError(f"{key!r} must be a JSON object, got {type(value).__name__} "
                         f"{_short(value)}", path)
    return value


def check_known_keys(mapping, allowed, what, path):
    """Refuse a key of ``mapping`` that is not in ``allowed``, naming it."""
    unknown = [k for k in mapping if k not in set(allowed)]
    if unknown:
        raise InputError(f"unknown {what} {unknown[0]!r} (known: {', '.join(sorted(allowed))})",
                         path)


def _short(value, n=40):
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."
