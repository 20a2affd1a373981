"""Input checks shared by the interpretation modules: each raises ParameterError with one line."""

import numpy as np

from ..errors import ParameterError


def float_matrix(x, name, *, nonnegative=False):
    """``x`` as a finite 2-d float64 array with at least one row and column."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ParameterError(f"{name} must be a non-empty 2-d array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} contains NaN or infinite values")
    if nonnegative and a.min() < 0:
        raise ParameterError(f"{name} has negative entries")
    return a


def topic_word(phi, name="phi"):
    """φ as a (K, V) float64 array of non-negative rows, each with positive mass."""
    a = float_matrix(phi, name, nonnegative=True)
    empty = np.flatnonzero(a.sum(axis=1) <= 0)
    if empty.size:
        raise ParameterError(f"{name} row {int(empty[0])} has no mass (all zeros)")
    return a


def integer_array(x, name, *, ndim=1):
    """``x`` as an integer array of the given rank (no copy when it already is one)."""
    a = np.asarray(x)
    if a.ndim != ndim:
        raise ParameterError(f"{name} must be a {ndim}-d array, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ParameterError(f"{name} must hold integers, got dtype {a.dtype}")
    return a


def positive_int(x, name, *, minimum=1):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < minimum:
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return int(x)


def labels_for(names, n, name="names"):
    """``names`` as a list of ``n`` strings (``None`` → None)."""
    if names is None:
        return None
    names = [str(s) for s in names]
    if len(names) != n:
        raise ParameterError(f"{name} must have {n} entries (one per row/column), got {len(names)}")
    return names
