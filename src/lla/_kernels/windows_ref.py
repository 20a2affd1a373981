"""Slow pure-Python twin of :mod:`lla._kernels.windows`, used only by tests.

Enumerates every window explicitly and takes the set of its counted words; same arguments and
return values as :func:`lla._kernels.windows.window_cooccurrence`.
"""

import itertools

import numpy as np


def window_cooccurrence_ref(tokens, starts, lengths, slot, window, n_slots):
    occ = np.zeros(n_slots, dtype=np.int64)
    co = np.zeros((n_slots, n_slots), dtype=np.int64)
    n_windows = 0
    for s0, n in zip(starts, lengths):
        doc = [int(t) for t in tokens[int(s0):int(s0) + int(n)]]
        if not doc:
            continue
        w = min(window, len(doc))
        for i in range(len(doc) - w + 1):
            n_windows += 1
            words = sorted({int(slot[t]) for t in doc[i:i + w]} - {-1})
            for u in words:
                occ[u] += 1
            for a, b in itertools.combinations(words, 2):
                co[a, b] += 1
    return n_windows, occ, co
