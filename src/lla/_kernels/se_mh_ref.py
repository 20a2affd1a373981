"""Slow pure-Python twin of :mod:`lla._kernels.se_mh` (tests only).

The proposal tables are rebuilt here from the counts with :mod:`lla._kernels.alias_ref`, the
chain of one token is written out as in the paper's terms (:func:`mh_token`), and
:func:`mh_rows` runs it row by row with the same SplitMix64 draws as the kernel, so both return
the same topics.  The acceptance ratios are the two functions :func:`word_ratio` and
:func:`doc_ratio` (the tests replace them with wrong ones to show that their χ² test has power).
"""

import math

import numpy as np

from . import alias_ref
from .rng import SplitMix64


class Proposal:
    """The word proposal q_w(k) ∝ φ_wk = n_wk/(n_k+Vβ) + β/(n_k+Vβ) of counts n_wk (V, K)."""

    def __init__(self, n_wk, beta):
        self.n_wk = np.asarray(n_wk, dtype=np.int64)
        V, K = self.n_wk.shape
        self.beta = float(beta)
        self.inv_nk = 1.0 / (self.n_wk.sum(axis=0) + V * self.beta)
        dense = self.beta * self.inv_nk
        self.dense = alias_ref.build(dense)
        self.dense_mass = 0.0
        for x in dense:
            self.dense_mass += float(x)
        self.topics, self.tables, self.sparse_mass = [], [], []
        for w in range(V):
            ks = [k for k in range(K) if self.n_wk[w, k] != 0]
            weights = [self.n_wk[w, k] * self.inv_nk[k] for k in ks]
            s = 0.0
            for x in weights:
                s += x
            self.topics.append(ks)
            self.tables.append(alias_ref.build(weights) if ks else None)
            self.sparse_mass.append(s)

    def phi(self, w, k):
        """φ_wk = (n_wk + β) / (n_k + Vβ)."""
        return (self.n_wk[w, k] + self.beta) * self.inv_nk[k]

    def draw(self, w, u_coin, u_col):
        """A draw from q_w with two uniforms: the coin (sparse / dense part), the column."""
        p = self.sparse_mass[w]
        if self.topics[w] and u_coin * (p + self.dense_mass) < p:
            return self.topics[w][alias_ref.draw(*self.tables[w], u_col)]
        return alias_ref.draw(*self.dense, u_col)


def word_ratio(l_prop, l_cur, **_):
    """π(k')q_w(k) / (π(k)q_w(k')) = θ_k'/θ_k: the φ factors cancel."""
    return math.exp(l_prop - l_cur)


def doc_ratio(l_prop, l_cur, phi_prop, phi_cur, n_prop, n_cur, doc_alpha):
    """π(k')q_d(k) / (π(k)q_d(k')) with q_d(k) ∝ n^d_{<t,k} + α_d."""
    return math.exp(l_prop - l_cur) * phi_prop / phi_cur * (n_cur + doc_alpha) \
        / (n_prop + doc_alpha)


def mh_token(logit, proposal, w, earlier, mh_steps, doc_alpha, rng, stats=None):
    """One token's chain: z ~ (approximately, exactly as mh_steps → ∞) π(k) ∝ θ_k φ_wk.

    logit(k) -> l_k (the softmax normaliser is never needed); proposal : :class:`Proposal`;
    w : the word; earlier : the document's earlier topics z_<t (list of int); rng :
    :class:`~lla._kernels.rng.SplitMix64`; stats : optional list of 4 counters as the kernel's.
    """
    stats = [0, 0, 0, 0] if stats is None else stats
    K = proposal.n_wk.shape[1]
    t = len(earlier)
    n_d = np.bincount(np.asarray(earlier, dtype=np.int64), minlength=K)
    cur = proposal.draw(w, rng.uniform(), rng.uniform())
    l_cur = logit(cur)
    for _ in range(mh_steps):
        u1, u2 = rng.uniform(), rng.uniform()
        if u1 * (t + K * doc_alpha) < t:
            prop = int(earlier[min(int(u2 * t), t - 1)])
        else:
            prop = min(int(u2 * K), K - 1)
        u = rng.uniform()
        stats[2] += 1
        if prop == cur:
            stats[3] += 1
        else:
            l_prop = logit(prop)
            if u < doc_ratio(l_prop, l_cur, proposal.phi(w, prop), proposal.phi(w, cur),
                             n_d[prop], n_d[cur], doc_alpha):
                cur, l_cur = prop, l_prop
                stats[3] += 1
        prop = proposal.draw(w, rng.uniform(), rng.uniform())
        u = rng.uniform()
        stats[0] += 1
        if prop == cur:
            stats[1] += 1
        else:
            l_prop = logit(prop)
            if u < word_ratio(l_prop, l_cur):
                cur, l_cur = prop, l_prop
                stats[1] += 1
    return cur


def logit_fn(w_p, b_p, h):
    """l_k = W_p[k]·s + b_k summed in index order in float64, as the kernel does."""
    def logit(k):
        acc = 0.0
        for a, b in zip(w_p[k], h):
            acc += float(a) * float(b)
        return acc + float(b_p[k])
    return logit


def mh_rows(h, w_p, b_p, words, token_index, position, z_out, proposal, mh_steps, doc_alpha,
            rng_state):
    """Twin of :func:`lla._kernels.se_mh.mh_rows` (same arguments but the document counts,
    which are recounted from ``z_out``; ``proposal`` a :class:`Proposal`).  Returns (z int64
    (R,), stats list); ``z_out`` and ``rng_state`` are updated as the kernel does."""
    R = h.shape[0]
    z = np.zeros(R, dtype=np.int64)
    stats = [0, 0, 0, 0]
    for r in range(R):
        tok = int(token_index[r])
        if tok < 0:
            continue
        t = int(position[r])
        rng = SplitMix64(int(rng_state[r]))
        earlier = [int(x) for x in z_out[tok - t:tok]]
        z[r] = mh_token(logit_fn(w_p, b_p, h[r]), proposal, int(words[r]), earlier, mh_steps,
                        doc_alpha, rng, stats)
        rng_state[r] = np.uint64(rng.state)
        z_out[tok] = z[r]
    return z, stats
