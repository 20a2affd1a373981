"""Slow pure-Python twin of :mod:`lla._kernels.alias` (tests only): the same construction in
the same order, so the tables are bit-identical, and the same draw."""

import numpy as np


def build(weights):
    """Vose's alias table of ``weights`` (n,): (prob float64 (n,), alias int64 (n,))."""
    w = [float(x) for x in weights]
    n = len(w)
    total = 0.0
    for x in w:
        total += x
    scale = n / total
    prob = [x * scale for x in w]
    alias = list(range(n))
    small = [i for i in range(n) if prob[i] < 1.0]
    large = [i for i in range(n) if prob[i] >= 1.0]
    while small and large:
        s = small.pop()
        g = large[-1]
        alias[s] = g
        prob[g] = (prob[g] + prob[s]) - 1.0
        if prob[g] < 1.0:
            large.pop()
            small.append(g)
    for i in large + small:
        prob[i] = 1.0
    return np.array(prob), np.array(alias, dtype=np.int64)


def draw(prob, alias, u):
    """An index of the table (prob, alias) from one uniform ``u`` in [0, 1)."""
    n = len(prob)
    x = u * n
    i = min(int(x), n - 1)
    return i if x - i < prob[i] else int(alias[i])
