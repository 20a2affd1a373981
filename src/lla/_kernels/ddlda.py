"""Gibbs sweep of distance-dependent LDA, fixed-window approximation (DESIGN §4; numba).

Topic prior of token i in document d (positions in the document's training prefix)::

    p(z_i = k | z_¬i) ∝ α + Σ_{j ≠ i, |i − j| ≤ W} f(|i − j|) · [z_j = k]

times the collapsed word term (n¬_wk + β) / (n¬_k + Vβ); f is a decay kernel given as the array
``weights`` with ``weights[δ] = f(δ)`` for δ = 1..W (``weights[0]`` unused).  Arrays: ``words``,
``z`` int32 (N,) flat in document order, ``doc_ptr`` int64 (D+1,); counts ``n_wk`` int32 (V, K)
and ``n_k`` int64 (K,), changed in place with ``z``.  One sequential pass (a baseline, not tuned
for threads).  Randomness: SplitMix64 state ``rng_state`` uint64 (1,), advanced in place.
Reference twin: :func:`lla._kernels.ddlda_ref.ddlda_sweep_ref`.
"""

import numpy as np
from numba import njit

from .rng import advance, uniform


@njit(cache=True)
def ddlda_sweep(words, doc_ptr, z, n_wk, n_k, weights, alpha, beta, rng_state):
    V = n_wk.shape[0]
    K = n_k.size
    W = weights.size - 1
    vbeta = V * beta
    p = np.empty(K)
    state = rng_state[0]
    for d in range(doc_ptr.size - 1):
        b = doc_ptr[d]
        e = doc_ptr[d + 1]
        for i in range(b, e):
            w = words[i]
            old = z[i]
            n_wk[w, old] -= 1
            n_k[old] -= 1
            for k in range(K):
                p[k] = alpha
            lo = max(b, i - W)
            hi = min(e, i + W + 1)
            for j in range(lo, hi):
                if j != i:
                    p[z[j]] += weights[abs(i - j)]
            total = 0.0
            for k in range(K):
                p[k] *= (n_wk[w, k] + beta) / (n_k[k] + vbeta)
                total += p[k]
            state = advance(state)
            u = uniform(state) * total
            new = K - 1
            acc = 0.0
            for k in range(K):
                acc += p[k]
                if u < acc:
                    new = k
                    break
            z[i] = new
            n_wk[w, new] += 1
            n_k[new] += 1
    rng_state[0] = state
