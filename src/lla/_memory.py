"""Estimate before allocating: refuse, with one line, an allocation that cannot fit in memory.

``np.zeros((V, K))`` with an absurd K either raises a ``MemoryError`` deep inside a model or,
worse, succeeds lazily (Linux over-commits) and the process is killed by the OOM killer hours
later.  Models call :func:`check_allocation` with the bytes their large arrays will need before
creating any of them, e.g. LDA's count matrices::

    check_allocation(array_bytes(((D, K), np.int32), ((V, K), np.int32)),
                     f"the count matrices n_dk, n_wk of K = {K} topics")

Available memory is what the kernel reports as available (``MemAvailable`` of
``/proc/meminfo``), capped by the control group's limit when there is one (containers) and by
the address-space limit (``ulimit -v``); on systems without any of these, the physical memory.  ``LLA_MEMORY_LIMIT`` (bytes, or with a K/M/G/T
suffix) overrides the estimate, e.g. to test, or to leave room for other programs.
"""

import os
import re
from pathlib import Path

import numpy as np

from .errors import ParameterError

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def format_bytes(n):
    """``3.43 TiB``, ``512.0 MiB``, ``12 B``."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{int(n)} B" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def _read_int(path):
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _meminfo_available():
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    m = re.search(r"^MemAvailable:\s+(\d+) kB", text, re.MULTILINE)
    return int(m.group(1)) * 1024 if m else None


def _cgroup_available():
    """Bytes left under the memory limit of this process's control group (v2 or v1)."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit = _read_int(limit_file)  # "max" (no limit) reads as None
        if limit is not None and limit < 1 << 60:
            return max(0, limit - (_read_int(usage_file) or 0))
    return None


def _address_space_limit():
    """The process's address-space limit (``ulimit -v``), None when unlimited."""
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, AttributeError, OSError, ValueError):
        return None
    return None if soft == resource.RLIM_INFINITY else soft


def _physical_memory():
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def available_memory():
    """Bytes this process can still allocate, best estimate; None when unknown."""
    override = os.environ.get("LLA_MEMORY_LIMIT")
    if override:
        m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)I?B?\s*", override.upper())
        if m is None:
            raise ParameterError(f"LLA_MEMORY_LIMIT must be a number of bytes (suffix K, M, G "
                                 f"or T allowed), got {override!r}")
        return int(m.group(1)) * _UNITS[m.group(2)]
    estimates = [x for x in (_meminfo_available(), _cgroup_available(), _address_space_limit())
                 if x is not None]
    if estimates:
        return min(estimates)
    return _physical_memory()


def array_bytes(*specs):
    """Bytes of arrays given as ``(shape, dtype)`` pairs (Python ints: no overflow)."""
    total = 0
    for shape, dtype in specs:
        n = 1
        for s in (shape if isinstance(shape, (tuple, list)) else (shape,)):
            n *= int(s)
        total += n * np.dtype(dtype).itemsize
    return total


def check_allocation(n_bytes, what):
    """Raise :class:`lla.ParameterError` if ``n_bytes`` (what the arrays described by ``what``
    will take) exceed the memory available now; returns ``n_bytes`` otherwise.

    The message names the sizes: ``--topics 1000000000: 3.43 TiB of memory needed, but only
    5.21 GiB available``.  When the available memory is unknown nothing
    is checked.
    """
    n_bytes = int(n_bytes)
    available = available_memory()
    if available is not None and n_bytes > available:
        raise ParameterError(f"{what}: {format_bytes(n_bytes)} of memory needed, but only "
                             f"{format_bytes(available)} available")
    return n_bytes
