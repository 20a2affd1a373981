"""Boolean sliding-window counts of a set of words and of their pairs (numba).

Used by the NPMI coherence of :mod:`lla.interpret.coherence`.  Document d is
``tokens[starts[d] : starts[d] + lengths[d]]``; its windows are the ``max(N_d − W + 1, 1)``
contiguous runs of ``min(W, N_d)`` tokens (a document shorter than W is one window, an empty
document has none).  A window *contains* word u when u occurs anywhere in it, however often.

``slot`` (int32, (V,)) maps a word id to its index u in the counted set (U words), −1 for words
that are not counted.  Returns ``(n_windows, occ, co)``: occ int64 (U,) = number of windows that
contain u; co int64 (U, U) = number of windows that contain both a and b, filled for a < b only
(the lower triangle and diagonal stay 0).  Memory O(U²), never O(V²).  One sequential pass that
keeps the window's counted words as a sparse set, so a window costs O(m²) for its m distinct
counted words.  Reference twin: :func:`lla._kernels.windows_ref.window_cooccurrence_ref`.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def window_cooccurrence(tokens, starts, lengths, slot, window, n_slots):
    occ = np.zeros(n_slots, dtype=np.int64)
    co = np.zeros((n_slots, n_slots), dtype=np.int64)
    in_window = np.zeros(n_slots, dtype=np.int64)  # occurrences of u in the current window
    present = np.empty(n_slots, dtype=np.int64)    # sparse set of the u with in_window[u] > 0
    position = np.empty(n_slots, dtype=np.int64)
    m = 0
    n_windows = 0
    for d in range(starts.size):
        n = lengths[d]
        if n == 0:
            continue
        s0 = starts[d]
        w = min(window, n)
        n_win = n - w + 1
        for i in range(n_win):
            if i == 0:
                entering_lo = s0
            else:
                entering_lo = s0 + i + w - 1
                u = slot[tokens[s0 + i - 1]]               # the token leaving the window
                if u >= 0:
                    in_window[u] -= 1
                    if in_window[u] == 0:
                        j = position[u]
                        last = present[m - 1]
                        present[j] = last
                        position[last] = j
                        m -= 1
            for t in range(entering_lo, s0 + i + w):      # the token(s) entering it
                u = slot[tokens[t]]
                if u >= 0:
                    in_window[u] += 1
                    if in_window[u] == 1:
                        present[m] = u
                        position[u] = m
                        m += 1
            n_windows += 1
            for a in range(m):
                ua = present[a]
                occ[ua] += 1
                for b in range(a + 1, m):
                    ub = present[b]
                    if ua < ub:
                        co[ua, ub] += 1
                    else:
                        co[ub, ua] += 1
        for t in range(s0 + n_win - 1, s0 + n_win - 1 + w):  # empty the set for the next document
            u = slot[tokens[t]]
            if u >= 0:
                in_window[u] = 0
        m = 0
    return n_windows, occ, co
