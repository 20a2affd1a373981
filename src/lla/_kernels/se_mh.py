"""Metropolis–Hastings draws of topic-LLA's SE-step for large K (numba; DESIGN §2, §7).

The SE-step draws z_t from the exact conditional

    π_t(k) ∝ θ_{t,k} · φ_{w_t,k},   θ_{t,k} = exp(l_k) / Σ_j exp(l_j),   l_k = W_p[k]·s_t + b_k,

where s_t (H,) is the LSTM state after the sampled z_<t and φ_{w,k} = (n_wk + β)/(n_k + Vβ) is
fixed during the whole SE-step.  The dense step computes all K logits (O(K·H)), the K-way
softmax and the K products.  An MH chain needs π only up to a constant, and the softmax
normaliser Σ_j exp(l_j) is such a constant: every acceptance ratio contains θ only as
exp(l_k' − l_k).  So a chain over ``mh_steps`` proposals needs the logits of the proposed
topics only, O(H) each, and never touches all K — provided the proposals themselves cost O(1).

Proposals (both are independence proposals for token t: they depend on w_t and on the
document's earlier topics z_<t, which are fixed while z_t is drawn, never on the chain's state):

* **word proposal** q_w(k) = φ_{w,k} / Σ_j φ_{w,j}, drawn in O(1) from the split (Li et al.
  2014; the paper's §3.2)

      φ_{w,k} = n_wk / (n_k + Vβ)      (sparse: the K_w topics with n_wk > 0)
              + β / (n_k + Vβ)         (dense: the same for every word)

  a coin with bias p_w / (p_w + q), p_w = Σ_k n_wk/(n_k+Vβ), q = Σ_k β/(n_k+Vβ), picks the
  sparse part (an alias table per word over its K_w topics) or the dense part (one alias table
  over K).  Both tables depend on the counts only, so they are built once per SE-step
  (:func:`build_proposal`, O(nnz(n_wk) + K)).  θ_t is *not* in this proposal: weighting the
  sparse part by θ_t would need K_w logits per token (K_w is in the hundreds for frequent words
  at K = 1000) and the dense part by θ_t all K.  The φ factors cancel, so the acceptance is
  min(1, exp(l_k' − l_k)).
* **document proposal** q_d(k) ∝ n^d_{<t,k} + α_d (α_d = ``doc_alpha``), the topic counts of the
  document's earlier tokens in this SE-step (LightLDA's doc proposal, Yuan et al. 2015; a cheap
  stand-in for θ_t, which follows the document's topics): with probability t / (t + Kα_d) the
  topic of a uniformly chosen earlier token, else a uniform topic — O(1).  Acceptance
  min(1, exp(l_k' − l_k) · φ_{w,k'}/φ_{w,k} · (n^d_{<t,k} + α_d)/(n^d_{<t,k'} + α_d)).

The chain of a token starts from a draw of the word proposal and then cycles (document
proposal, word proposal) ``mh_steps`` times; its stationary distribution is π_t exactly
(tests/_kernels/test_se_mh.py checks it by a χ² test and shows that the test rejects a wrong
acceptance ratio); after finitely many steps it is an approximation whose quality
``benchmarks/se_mh_speed.py`` measures (total variation to π_t on real tokens).

Cost per token: 1 + 2·mh_steps logits of O(H) each and O(1) table look-ups, besides the LSTM
step O(H²) that every SE-step pays; the dense step pays O(K·H) for the logits and O(K) for the
softmax, the products and the search.

Randomness: one SplitMix64 state per row (:mod:`lla._kernels.rng`), advanced in place; every
token consumes exactly 2 + 6·mh_steps uniforms whatever happens (coin and column of every
proposal, one uniform per acceptance test), so the twin :mod:`lla._kernels.se_mh_ref` draws the
same topics from the same states.
"""

import math
from collections import namedtuple

import numpy as np
from numba import njit

from . import alias as _alias
from .rng import advance, uniform

#: the tables of the word proposal, built once per SE-step by :func:`build_proposal`
WordProposal = namedtuple("WordProposal", [
    "n_wk",         # int32 (V, K): the counts (φ of the document proposal's acceptance)
    "inv_nk",       # float64 (K,): 1 / (n_k + Vβ)
    "beta",         # float: β
    "dense_prob",   # float64 (K,), int32 (K,): alias table of β / (n_k + Vβ)
    "dense_alias",
    "dense_mass",   # float: q = Σ_k β / (n_k + Vβ)
    "word_ptr",     # int64 (V+1,): word w's non-zero topics are word_topic[word_ptr[w]:...]
    "word_topic",   # int32 (nnz,): k with n_wk > 0, ascending
    "word_prob",    # float64 (nnz,), int32 (nnz,): per-word alias tables of n_wk / (n_k + Vβ)
    "word_alias",
    "sparse_mass",  # float64 (V,): p_w = Σ_k n_wk / (n_k + Vβ)
])


@njit(cache=True)
def _csr_of_counts(n_wk, inv_nk):
    V, K = n_wk.shape
    ptr = np.zeros(V + 1, dtype=np.int64)
    for w in range(V):
        c = 0
        for k in range(K):
            if n_wk[w, k] != 0:
                c += 1
        ptr[w + 1] = ptr[w] + c
    topic = np.empty(ptr[V], dtype=np.int32)
    weight = np.empty(ptr[V], dtype=np.float64)
    mass = np.zeros(V, dtype=np.float64)
    for w in range(V):
        j = ptr[w]
        s = 0.0
        for k in range(K):
            if n_wk[w, k] != 0:
                topic[j] = k
                weight[j] = n_wk[w, k] * inv_nk[k]
                s += weight[j]
                j += 1
        mass[w] = s
    return ptr, topic, weight, mass


def build_proposal(n_wk, beta):
    """The word proposal's tables (:data:`WordProposal`) of counts n_wk int (V, K) and β.

    O(V·K) to find the non-zeros, O(nnz + K) for the tables; memory 16 bytes per non-zero."""
    n_wk = np.ascontiguousarray(n_wk, dtype=np.int32)
    V, K = n_wk.shape
    beta = float(beta)
    inv_nk = 1.0 / (n_wk.sum(axis=0, dtype=np.int64) + V * beta)
    dense = beta * inv_nk
    dense_prob = np.empty(K)
    dense_alias = np.empty(K, dtype=np.int32)
    _alias.build(dense, dense_prob, dense_alias, np.empty(K, np.int64), np.empty(K, np.int64))
    dense_mass = 0.0
    for x in dense:  # in index order, as the twin
        dense_mass += float(x)
    ptr, topic, weight, mass = _csr_of_counts(n_wk, inv_nk)
    word_prob = np.empty(len(weight))
    word_alias = np.empty(len(weight), dtype=np.int32)
    _alias.build_csr(ptr, weight, word_prob, word_alias)
    return WordProposal(n_wk, inv_nk, beta, dense_prob, dense_alias, dense_mass, ptr, topic,
                        word_prob, word_alias, mass)


@njit(cache=True, inline="always")
def _logit(w_p, b_p, h, r, k):
    """l_k = W_p[k]·s + b_k in float64, summed in index order (the twin sums alike)."""
    acc = 0.0
    for i in range(h.shape[1]):
        acc += np.float64(w_p[k, i]) * np.float64(h[r, i])
    return acc + np.float64(b_p[k])


@njit(cache=True, inline="always")
def _draw_word(tab, w, u_coin, u_col):
    a = tab.word_ptr[w]
    n_w = tab.word_ptr[w + 1] - a
    p = tab.sparse_mass[w]
    if n_w > 0 and u_coin * (p + tab.dense_mass) < p:
        return tab.word_topic[a + _alias.draw(tab.word_prob, tab.word_alias, a, n_w, u_col)]
    return _alias.draw(tab.dense_prob, tab.dense_alias, 0, tab.dense_prob.size, u_col)


@njit(cache=True)
def mh_rows(h, w_p, b_p, words, token_index, position, z_out, n_dk, tab, mh_steps, doc_alpha,
            rng_state, z, stats):
    """One batched step of the MH SE-step: draw z_t for every active row.

    Parameters
    ----------
    h : float32 (R, H), s_t of every row;  w_p : float32 (K, H);  b_p : float32 (K,)
    words : int (R,), w_t of every row
    token_index : int64 (R,), the token's index in the concatenated documents (−1: idle row);
        a document's tokens are consecutive, so its earlier tokens are
        ``token_index − position .. token_index − 1``
    position : int64 (R,), t − 1 inside the document (0: the row starts a document)
    z_out : int (n_tokens,), the topics drawn so far (read: the document's earlier topics;
        written: this step's)
    n_dk : int32 (R, K), topic counts of the row's document so far (reset at position 0,
        updated here)
    tab : :data:`WordProposal`;  mh_steps : int ≥ 0;  doc_alpha : α_d > 0
    rng_state : uint64 (R,), one SplitMix64 state per row (advanced in place)
    z : int64 (R,), out: the drawn topics (0 in idle rows)
    stats : int64 (4,), incremented: word proposals, accepted ones, document proposals,
        accepted ones (a proposal equal to the current topic counts as accepted)

    Twin: :func:`lla._kernels.se_mh_ref.mh_rows`.
    """
    R = h.shape[0]
    K = w_p.shape[0]
    for r in range(R):
        tok = token_index[r]
        if tok < 0:
            z[r] = 0
            continue
        w = words[r]
        t = position[r]
        begin = tok - t
        if t == 0:
            for k in range(K):
                n_dk[r, k] = 0
        st = rng_state[r]
        st = advance(st)
        u1 = uniform(st)
        st = advance(st)
        u2 = uniform(st)
        cur = _draw_word(tab, w, u1, u2)
        l_cur = _logit(w_p, b_p, h, r, cur)
        for _ in range(mh_steps):
            # document proposal
            st = advance(st)
            u1 = uniform(st)
            st = advance(st)
            u2 = uniform(st)
            if u1 * (t + K * doc_alpha) < t:
                prop = z_out[begin + min(int(u2 * t), t - 1)]
            else:
                prop = min(int(u2 * K), K - 1)
            st = advance(st)
            u = uniform(st)
            stats[2] += 1
            if prop == cur:
                stats[3] += 1
            else:
                l_prop = _logit(w_p, b_p, h, r, prop)
                ratio = math.exp(l_prop - l_cur) \
                    * ((tab.n_wk[w, prop] + tab.beta) * tab.inv_nk[prop]) \
                    / ((tab.n_wk[w, cur] + tab.beta) * tab.inv_nk[cur]) \
                    * (n_dk[r, cur] + doc_alpha) / (n_dk[r, prop] + doc_alpha)
                if u < ratio:
                    cur, l_cur = prop, l_prop
                    stats[3] += 1
            # word proposal
            st = advance(st)
            u1 = uniform(st)
            st = advance(st)
            u2 = uniform(st)
            prop = _draw_word(tab, w, u1, u2)
            st = advance(st)
            u = uniform(st)
            stats[0] += 1
            if prop == cur:
                stats[1] += 1
            else:
                l_prop = _logit(w_p, b_p, h, r, prop)
                if u < math.exp(l_prop - l_cur):
                    cur, l_cur = prop, l_prop
                    stats[1] += 1
        rng_state[r] = st
        z[r] = cur
        z_out[tok] = cur
        n_dk[r, cur] += 1
