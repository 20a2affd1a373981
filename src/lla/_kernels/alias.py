"""Walker's alias method (Vose 1991): draw from a fixed discrete distribution in O(1).

A table over n outcomes is two arrays, ``prob`` float64 (n,) and ``alias`` int32 (n,): draw a
column i uniformly, keep i with probability ``prob[i]``, else take ``alias[i]``.  The implied
distribution is

    p(i) = (prob[i] + Σ_{j : alias[j] = i} (1 − prob[j])) / n,

which :func:`implied_distribution` computes exactly (the tests compare it with the weights).
Building costs O(n); one draw costs one uniform (its integer part picks the column, its
fractional part decides between the column and its alias).

Tables in CSR layout hold one table per row of a sparse matrix (e.g. per word w over the
topics with n_wk > 0): row w owns entries ``ptr[w]:ptr[w+1]`` and its aliases are offsets
inside that range.

numba functions: :func:`build`, :func:`build_csr`, :func:`draw` (inline); slow twin
:mod:`lla._kernels.alias_ref`.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def build(weights, prob, alias, small, large):
    """Vose's construction for non-negative ``weights`` (n,) with a positive sum.

    Writes ``prob`` float64 (n,) and ``alias`` int32 (n,) (aliases are indices 0..n-1);
    ``small``, ``large`` are int64 scratch arrays of at least n entries.  Columns are
    processed in index order (stacks), so the table is a deterministic function of the weights.
    """
    n = weights.size
    total = 0.0
    for i in range(n):
        total += weights[i]
    scale = n / total
    n_small = 0
    n_large = 0
    for i in range(n):
        prob[i] = weights[i] * scale
        alias[i] = i
        if prob[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        s = small[n_small]
        g = large[n_large - 1]
        alias[s] = g
        prob[g] = (prob[g] + prob[s]) - 1.0
        if prob[g] < 1.0:
            n_large -= 1
            small[n_small] = g
            n_small += 1
    # what is left is 1 up to rounding
    for j in range(n_large):
        prob[large[j]] = 1.0
    for j in range(n_small):
        prob[small[j]] = 1.0


@njit(cache=True)
def build_csr(ptr, weights, prob, alias):
    """One alias table per row of a CSR matrix: row r's entries ``ptr[r]:ptr[r+1]`` of
    ``weights`` (nnz,) → ``prob`` float64 (nnz,), ``alias`` int32 (nnz,) (offsets inside the
    row).  Rows without entries get no table."""
    n_rows = ptr.size - 1
    longest = 0
    for r in range(n_rows):
        longest = max(longest, ptr[r + 1] - ptr[r])
    small = np.empty(longest, dtype=np.int64)
    large = np.empty(longest, dtype=np.int64)
    for r in range(n_rows):
        a, e = ptr[r], ptr[r + 1]
        if e > a:
            build(weights[a:e], prob[a:e], alias[a:e], small, large)


@njit(cache=True, inline="always")
def draw(prob, alias, offset, n, u):
    """An index in 0..n-1 from the table ``prob[offset:offset+n]``, ``alias[...]`` and one
    uniform ``u`` in [0, 1)."""
    x = u * n
    i = min(int(x), n - 1)
    if x - i < prob[offset + i]:
        return i
    return alias[offset + i]


def implied_distribution(prob, alias):
    """The exact distribution (n,) float64 that a table samples (numpy; for tests)."""
    prob = np.asarray(prob, dtype=np.float64)
    n = prob.size
    p = prob.copy()
    np.add.at(p, np.asarray(alias, dtype=np.int64), 1.0 - prob)
    return p / n
