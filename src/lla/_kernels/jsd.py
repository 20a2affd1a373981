"""Jensen–Shannon divergence of every pair of rows of two φ matrices, exactly, in time that
grows with the rows' supports instead of with V (numba).

A smoothed topic row φ_k = (n_wk + β) / (n_k + Vβ) is dense, but all the words a topic never
got (n_wk = 0) share one value, the row's *floor* b_k = β / (n_k + Vβ).  With
f(p, q) = ½ [p log(2p / (p + q)) + q log(2q / (p + q))] (0 log 0 = 0), and for a row pair
(a, b) with supports S_a = {w : p_w > b_a}, S_b = {w : q_w > b_b}, I = S_a ∩ S_b:

    JSD(p ‖ q) =  Σ_{w ∈ I} f(p_w, q_w)
               +  Σ_{w ∈ S_a} f(p_w, b_b) − Σ_{w ∈ I} f(p_w, b_b)          (only in S_a)
               +  Σ_{w ∈ S_b} f(b_a, q_w) − Σ_{w ∈ I} f(b_a, q_w)          (only in S_b)
               +  (V − |S_a| − |S_b| + |I|) f(b_a, b_b)                   (in neither)

in nats; a pair costs O(|S_a| + |S_b|) (a merge of the two sorted supports) and one logarithm
per term, written f(p, q) = ½ [g(p + q) + h(p) + h(q)] with g(m) = m log(2/m), h(x) = x log x,
whose h sums over a row's support are computed once per row.  Exact for any
non-negative rows (a row with no repeated minimum just has a large support).  Reference twin:
:func:`lla._kernels.jsd_ref.jsd_matrix_ref` (dense, every word).

Arguments (CSR-like supports, built by :func:`lla.interpret.matching`):
a_ptr int64 (K_A+1,), a_idx int64 (nnz_A,) sorted word ids within each row, a_val float64
(nnz_A,) the row's values there, a_floor float64 (K_A,) the value everywhere else; the same
for B; V the vocabulary size.  Returns float64 (K_A, K_B), JSD in nats (in [0, log 2]).
"""

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _g(m):
    """m log(2 / m) (0 at m = 0): with h(x) = x log x, f(p, q) = ½ [g(p + q) + h(p) + h(q)]."""
    return m * (np.log(2.0) - np.log(m)) if m > 0.0 else 0.0


@njit(cache=True, inline="always")
def _h(x):
    return x * np.log(x) if x > 0.0 else 0.0


@njit(cache=True, parallel=True)
def jsd_matrix(a_ptr, a_idx, a_val, a_floor, b_ptr, b_idx, b_val, b_floor, V):
    KA = a_floor.size
    KB = b_floor.size
    # Σ_{w ∈ S} h(value) of every row: the h terms need no partner
    a_h = np.zeros(KA)
    for i in range(KA):
        for x in range(a_ptr[i], a_ptr[i + 1]):
            a_h[i] += _h(a_val[x])
    b_h = np.zeros(KB)
    for j in range(KB):
        for y in range(b_ptr[j], b_ptr[j + 1]):
            b_h[j] += _h(b_val[y])
    out = np.empty((KA, KB), dtype=np.float64)
    for i in prange(KA):
        a0, a1 = a_ptr[i], a_ptr[i + 1]
        fa = a_floor[i]
        hfa = _h(fa)
        for j in range(KB):
            b0, b1 = b_ptr[j], b_ptr[j + 1]
            fb = b_floor[j]
            hfb = _h(fb)
            # every w ∈ S_a against b's floor, every w ∈ S_b against a's floor (2·f summed)
            total = a_h[i] + (a1 - a0) * hfb + b_h[j] + (b1 - b0) * hfa
            for x in range(a0, a1):
                total += _g(a_val[x] + fb)
            for y in range(b0, b1):
                total += _g(fa + b_val[y])
            x, y = a0, b0
            n_both = 0
            while x < a1 and y < b1:                     # w ∈ I: swap in the exact term
                wa, wb = a_idx[x], b_idx[y]
                if wa == wb:
                    p, q = a_val[x], b_val[y]
                    # 2 [f(p, q) − f(p, fb) − f(fa, q)]
                    total += _g(p + q) - _g(p + fb) - _g(fa + q) - hfa - hfb
                    n_both += 1
                    x += 1
                    y += 1
                elif wa < wb:
                    x += 1
                else:
                    y += 1
            rest = V - (a1 - a0) - (b1 - b0) + n_both
            total += rest * (_g(fa + fb) + hfa + hfb)
            out[i, j] = min(max(0.5 * total, 0.0), np.log(2.0))
    return out
