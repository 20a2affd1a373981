"""Slow pure-Python twin of :mod:`lla._kernels.se_mh` (tests only).

The proposal tables are rebuilt here from the counts with :mod:`lla._kernels.alias_ref`, one
token's chain is written out in the terms of the kernel's docstring (:func:`mh_token`: the word
proposal q_w as an explicit density, the document proposal q_d, the acceptance ratio
π̃(k')q(k) / (π̃(k)q(k'))), and :func:`mh_rows` runs it row by row with the same SplitMix64
draws as the kernel, so both return the same topics.  The acceptance ratio is the one function
:func:`acceptance_ratio` (a test replaces it with a wrong one to show that the χ² test of the
chain has power).
"""

import math

import numpy as np

from . import alias_ref
from .rng import SplitMix64
from .se_mh import dot


class Proposal:
    """The word proposal's pieces for counts n_wk (V, K), β and head size J (see the kernel)."""

    def __init__(self, n_wk, beta, head):
        self.n_wk = np.asarray(n_wk, dtype=np.int64)
        V, K = self.n_wk.shape
        self.beta = float(beta)
        self.head = int(min(max(int(head), 0), K))
        self.inv_nk = 1.0 / (self.n_wk.sum(axis=0) + V * self.beta)
        dense = self.beta * self.inv_nk
        self.dense = alias_ref.build(dense)
        self.dense_mass = 0.0
        for x in dense:
            self.dense_mass += float(x)
        self.topics, self.weights, self.rest, self.head_mass, self.rest_mass = [], [], [], [], []
        for w in range(V):
            ks = sorted((k for k in range(K) if self.n_wk[w, k] != 0),
                        key=lambda k: (-self.n_wk[w, k], k))
            weights = [self.n_wk[w, k] * self.inv_nk[k] for k in ks]
            J_w = min(len(ks), self.head)
            self.topics.append(ks)
            self.weights.append(weights)
            self.head_mass.append(_sum(weights[:J_w]))
            self.rest_mass.append(_sum(weights[J_w:]))
            self.rest.append(alias_ref.build(weights[J_w:]) if len(ks) > J_w else None)

    def phi(self, w, k):
        """φ_wk = (n_wk + β) / (n_k + Vβ)."""
        return (self.n_wk[w, k] + self.beta) * self.inv_nk[k]


def _sum(xs):
    s = 0.0
    for x in xs:
        s += x
    return s


def acceptance_ratio(pi_prop, pi_cur, q_prop, q_cur):
    """Metropolis–Hastings: π(k')q(k) / (π(k)q(k')) for a proposal k' from the current k."""
    return pi_prop * q_cur / (pi_cur * q_prop)


def mh_token(logit, proposal, w, earlier, mh_steps, doc_alpha, rng, stats=None):
    """One token's chain: z ~ (approximately; exactly as mh_steps → ∞) π(k) ∝ θ_k φ_wk.

    logit(k) -> l_k (the softmax normaliser is never needed); proposal : :class:`Proposal`;
    w : the word; earlier : the document's earlier topics z_<t (list of int); rng :
    :class:`~lla._kernels.rng.SplitMix64`; stats : optional list of 4 counters as the kernel's.
    """
    stats = [0, 0, 0, 0] if stats is None else stats
    K = proposal.n_wk.shape[1]
    t = len(earlier)
    n_d = np.bincount(np.asarray(earlier, dtype=np.int64), minlength=K)
    topics, weights = proposal.topics[w], proposal.weights[w]
    J_w = min(len(topics), proposal.head)
    head = topics[:J_w]
    head_logits = [logit(k) for k in head]
    c = max(head_logits) if head else 0.0
    theta = {k: math.exp(l - c) * a for k, l, a in zip(head, head_logits, weights)}  # θ̃ a
    p_head = _sum(theta[k] for k in head)
    A_h, A_r = proposal.head_mass[w], proposal.rest_mass[w]
    Phi = A_h + A_r + proposal.dense_mass

    def q_w(k):
        """The word proposal's density."""
        if k in theta:
            return (A_h * theta[k] / p_head + proposal.beta * proposal.inv_nk[k]) / Phi
        return proposal.phi(w, k) / Phi

    def q_d(k):
        """The document proposal's density (up to its normaliser t + Kα_d)."""
        return n_d[k] + doc_alpha

    def pi(k, l_k):
        """π̃(k) = exp(l_k − c) φ_wk."""
        return math.exp(l_k - c) * proposal.phi(w, k)

    def draw_word(u1, u2):
        x = u1 * Phi
        if head and x < A_h:
            target, acc = u2 * p_head, 0.0
            for k in head:
                acc += theta[k]
                if target < acc:
                    return k
            return head[-1]
        if x < A_h + A_r:
            return topics[J_w + alias_ref.draw(*proposal.rest[w], u2)]
        return alias_ref.draw(*proposal.dense, u2)

    cur = draw_word(rng.uniform(), rng.uniform())
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
            if u < acceptance_ratio(pi(prop, l_prop), pi(cur, l_cur), q_d(prop), q_d(cur)):
                cur, l_cur = prop, l_prop
                stats[3] += 1
        prop = draw_word(rng.uniform(), rng.uniform())
        u = rng.uniform()
        stats[0] += 1
        if prop == cur:
            stats[1] += 1
        else:
            l_prop = logit(prop)
            if u < acceptance_ratio(pi(prop, l_prop), pi(cur, l_cur), q_w(prop), q_w(cur)):
                cur, l_cur = prop, l_prop
                stats[1] += 1
    return cur


def logit_fn(w_p, b_p, h, r):
    """l_k = W_p[k]·h[r] + b_k, with the kernel's own dot product
    (:func:`lla._kernels.se_mh.dot`, itself compared with numpy's by the tests)."""
    return lambda k: dot(w_p, k, h, r) + float(b_p[k])


def mh_rows(h, w_p, b_p, words, token_index, position, z_out, proposal, mh_steps, doc_alpha,
            rng_state):
    """Twin of :func:`lla._kernels.se_mh.mh_rows` (same arguments but the document counts,
    which are recounted from ``z_out``; ``proposal`` a :class:`Proposal`).  Returns (z int64
    (R,), stats list of 4); ``z_out`` and ``rng_state`` are updated as the kernel does."""
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
        z[r] = mh_token(logit_fn(w_p, b_p, h, r), proposal, int(words[r]), earlier, mh_steps,
                        doc_alpha, rng, stats)
        rng_state[r] = np.uint64(rng.state)
        z_out[tok] = z[r]
    return z, stats
