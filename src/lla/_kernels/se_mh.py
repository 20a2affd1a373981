"""Metropolis–Hastings draws of topic-LLA's SE-step for large K (numba; DESIGN §2, §7).

The SE-step draws z_t from the exact conditional

    π_t(k) ∝ θ_{t,k} · φ_{w_t,k},   θ_{t,k} = exp(l_k) / Σ_j exp(l_j),   l_k = W_p[k]·s_t + b_k,

where s_t (H,) is the LSTM state after the sampled z_<t and φ_{w,k} = (n_wk + β)/(n_k + Vβ) is
fixed during the whole SE-step.  The dense step computes all K logits (O(K·H)), the K-way
softmax and the K products.  An MH chain needs π only up to a constant, and the softmax
normaliser Σ_j exp(l_j) is such a constant: θ enters every acceptance ratio as exp(l_k' − l_k)
(and the proposal below as exp(l_k − c) for a constant c of the token).  So the chain needs the
logits of the topics it looks at only, O(H) each, and never all K.

**Split of φ** (Li et al. 2014; the paper's §3.2):  φ_{w,k} = n_wk/(n_k+Vβ) + β/(n_k+Vβ), a
sparse part over the K_w topics with n_wk > 0 and a dense part that is the same for every word.
The sparse topics of w are ordered by decreasing n_wk; its first J_w = min(K_w, J) are its
*head* (J = ``head``), the others its *rest*.

**Proposals** — both independence proposals for token t: they depend on w_t, s_t and the
document's earlier topics z_<t, all fixed while z_t is drawn, never on the chain's state.

* *word proposal* q_w, a mixture of three parts chosen by one coin with the φ masses
  A_h = Σ_head n_wk/(n_k+Vβ), A_r = Σ_rest n_wk/(n_k+Vβ), B = Σ_k β/(n_k+Vβ), Φ_w = A_h+A_r+B:

      head  (prob. A_h/Φ_w):  ∝ θ̃_k · n_wk/(n_k+Vβ) over the head   — needs θ: J_w logits
      rest  (prob. A_r/Φ_w):  ∝ n_wk/(n_k+Vβ) over the rest          — alias table per word
      dense (prob. B/Φ_w):    ∝ β/(n_k+Vβ) over all K                 — one alias table

  with θ̃_k = exp(l_k − c), c the largest head logit.  So
  q_w(k) = [k ∈ head]·(A_h/Φ_w)·θ̃_k a_wk/Σ_head θ̃ a + ([k ∉ head]·a_wk + b_k)/Φ_w.  With
  J ≥ K_w this is the paper's proposal (the sparse term exact with θ_t, the dense term from the
  alias table); weighting the dense term by θ_t too would need all K logits, and weighting the
  rest by θ_t K_w logits, which is in the hundreds for frequent words at K = 1000 (wiki: mean
  135 per token) — hence the cap J.  The tables depend on the counts only: built once per
  SE-step (:func:`build_proposal`, O(V·K) scan + O(nnz log K_w + K)).
* *document proposal* q_d(k) ∝ n^d_{<t,k} + α_d (α_d = ``doc_alpha``), the topic counts of the
  document's earlier tokens in this SE-step (LightLDA's doc proposal, Yuan et al. 2015): with
  probability t / (t + Kα_d) the topic of a uniformly chosen earlier token, else a uniform
  topic — O(1).  It reaches the topics that θ_t favours outside the word's head, where q_w has
  only the θ-free rest and dense parts.

Acceptance of a proposal k' from the current k: min(1, π̃(k') q(k) / (π̃(k) q(k'))) with
π̃(k) = exp(l_k − c) φ_{w,k}.  The chain of a token starts from a draw of q_w and then cycles
(document proposal, word proposal) ``mh_steps`` times.  Its stationary distribution is π_t
exactly (tests/_kernels/test_se_mh.py: χ² test, which rejects a wrong acceptance ratio); after
finitely many steps it is an approximation whose distance to π_t ``benchmarks/se_mh_speed.py``
measures (total variation on real tokens).

Cost per token: J_w + at most 2·mh_steps logits of O(H) each and O(J_w) for the head's sums and
search, besides the LSTM step O(H²) that every SE-step pays; the dense step pays O(K·H) for the
logits and O(K) for the softmax, the products and the search.

Randomness: one SplitMix64 state per row (:mod:`lla._kernels.rng`), advanced in place; every
token consumes exactly 2 + 6·mh_steps uniforms whatever happens (coin and position of every
proposal, one uniform per acceptance test), and the twin :mod:`lla._kernels.se_mh_ref` takes
its logits from the same :func:`dot`, so it draws the same topics from the same states.
"""

import math
from collections import namedtuple

import numpy as np
from numba import njit

from . import alias as _alias
from .rng import advance, uniform

#: the tables of the word proposal, built once per SE-step by :func:`build_proposal`
WordProposal = namedtuple("WordProposal", [
    "n_wk",         # int32 (V, K): the counts (φ_wk in the acceptance ratios)
    "inv_nk",       # float64 (K,): 1 / (n_k + Vβ)
    "beta",         # float: β
    "head",         # int: J, the most head topics a word has
    "dense_prob",   # float64 (K,), int32 (K,): alias table of b_k = β / (n_k + Vβ)
    "dense_alias",
    "dense_mass",   # float: B = Σ_k b_k
    "word_ptr",     # int64 (V+1,): w's sparse topics are word_topic[word_ptr[w]:word_ptr[w+1]]
    "word_topic",   # int32 (nnz,): k with n_wk > 0, by decreasing n_wk (ties: increasing k)
    "word_weight",  # float64 (nnz,): a_wk = n_wk / (n_k + Vβ)
    "rest_prob",    # float64 (nnz,), int32 (nnz,): per word, an alias table of a_wk over its
    "rest_alias",   #   rest (entries J_w.. of its range; offsets inside the rest)
    "head_mass",    # float64 (V,): A_h = Σ_head a_wk
    "rest_mass",    # float64 (V,): A_r = Σ_rest a_wk
])


@njit(cache=True)
def _sparse_tables(n_wk, inv_nk, head):
    V, K = n_wk.shape
    ptr = np.zeros(V + 1, dtype=np.int64)
    for w in range(V):
        c = 0
        for k in range(K):
            if n_wk[w, k] != 0:
                c += 1
        ptr[w + 1] = ptr[w] + c
    nnz = ptr[V]
    topic = np.empty(nnz, dtype=np.int32)
    weight = np.empty(nnz, dtype=np.float64)
    rest_prob = np.ones(nnz, dtype=np.float64)
    rest_alias = np.zeros(nnz, dtype=np.int32)
    head_mass = np.zeros(V, dtype=np.float64)
    rest_mass = np.zeros(V, dtype=np.float64)
    counts = np.empty(K, dtype=np.int64)
    ks = np.empty(K, dtype=np.int32)
    small = np.empty(K, dtype=np.int64)
    large = np.empty(K, dtype=np.int64)
    for w in range(V):
        a = ptr[w]
        n = ptr[w + 1] - a
        j = 0
        for k in range(K):
            if n_wk[w, k] != 0:
                ks[j] = k
                counts[j] = -n_wk[w, k]
                j += 1
        order = np.argsort(counts[:n], kind="mergesort")  # stable: ties by increasing k
        for j in range(n):
            k = ks[order[j]]
            topic[a + j] = k
            weight[a + j] = n_wk[w, k] * inv_nk[k]
        J_w = min(n, head)
        s = 0.0
        for j in range(J_w):
            s += weight[a + j]
        head_mass[w] = s
        s = 0.0
        for j in range(J_w, n):
            s += weight[a + j]
        rest_mass[w] = s
        if n > J_w:
            _alias.build(weight[a + J_w:a + n], rest_prob[a + J_w:a + n],
                         rest_alias[a + J_w:a + n], small, large)
    return ptr, topic, weight, rest_prob, rest_alias, head_mass, rest_mass


def build_proposal(n_wk, beta, head):
    """The word proposal's tables (:data:`WordProposal`) of counts n_wk int (V, K), β and the
    head size J ≥ 0 (J ≥ K gives every sparse topic to the head: the paper's proposal).

    O(V·K) to find the non-zeros, O(nnz log K_w + K) for the tables; 28 bytes per non-zero."""
    n_wk = np.ascontiguousarray(n_wk, dtype=np.int32)
    V, K = n_wk.shape
    beta = float(beta)
    head = int(min(max(int(head), 0), K))
    inv_nk = 1.0 / (n_wk.sum(axis=0, dtype=np.int64) + V * beta)
    dense = beta * inv_nk
    dense_prob = np.empty(K)
    dense_alias = np.empty(K, dtype=np.int32)
    _alias.build(dense, dense_prob, dense_alias, np.empty(K, np.int64), np.empty(K, np.int64))
    dense_mass = 0.0
    for x in dense:  # in index order, as the twin
        dense_mass += float(x)
    return WordProposal(n_wk, inv_nk, beta, head, dense_prob, dense_alias, dense_mass,
                        *_sparse_tables(n_wk, inv_nk, head))


@njit(cache=True, fastmath=True)
def dot(w_p, k, h, r):
    """l_k − b_k = W_p[k]·h[r] (float32 products, summed in whatever order vectorises:
    fast-math, ~20 ns for H = 128 against ~300 ns in a fixed order).  The twin calls this very
    function, so both see the same logits; tests compare it with numpy's dot."""
    acc = np.float32(0.0)
    for i in range(h.shape[1]):
        acc += w_p[k, i] * h[r, i]
    return np.float64(acc)


@njit(cache=True, inline="always")
def _head_index(tab, a, J_w, k):
    for j in range(J_w):
        if tab.word_topic[a + j] == k:
            return j
    return -1


@njit(cache=True, inline="always")
def _phi(tab, w, k):
    return (tab.n_wk[w, k] + tab.beta) * tab.inv_nk[k]


@njit(cache=True, inline="always")
def _ratio(pi_prop, pi_cur, q_prop, q_cur):
    """π̃(k')q(k) / (π̃(k)q(k')); twin: :func:`lla._kernels.se_mh_ref.acceptance_ratio`."""
    return pi_prop * q_cur / (pi_cur * q_prop)


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
    stats : int64 (5,), incremented: word proposals, accepted ones, document proposals,
        accepted ones (a proposal equal to the current topic counts as accepted), logits
        computed

    Twin: :func:`lla._kernels.se_mh_ref.mh_rows`.
    """
    R = h.shape[0]
    K = w_p.shape[0]
    J = max(tab.head, 1)
    hl = np.empty(J)     # head logits l_k
    hq = np.empty(J)     # θ̃_k a_wk of the head
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
        # the head: J_w logits, θ̃ relative to the largest
        a = tab.word_ptr[w]
        n_w = tab.word_ptr[w + 1] - a
        J_w = min(n_w, tab.head)
        c = 0.0
        for j in range(J_w):
            hl[j] = dot(w_p, tab.word_topic[a + j], h, r) + np.float64(b_p[tab.word_topic[a + j]])
            if j == 0 or hl[j] > c:
                c = hl[j]
        stats[4] += J_w
        p_head = 0.0
        for j in range(J_w):
            hq[j] = math.exp(hl[j] - c) * tab.word_weight[a + j]
            p_head += hq[j]
        A_h = tab.head_mass[w]
        A_r = tab.rest_mass[w]
        Phi = A_h + A_r + tab.dense_mass
        st = rng_state[r]
        cur = -1
        l_cur = 0.0
        q_cur = 0.0
        n_draws = 1 + mh_steps
        for step in range(n_draws):
            if step > 0:
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
                    j = _head_index(tab, a, J_w, prop)
                    if j >= 0:
                        l_prop = hl[j]
                    else:
                        l_prop = dot(w_p, prop, h, r) + np.float64(b_p[prop])
                        stats[4] += 1
                    if u < _ratio(math.exp(l_prop - c) * _phi(tab, w, prop),
                                  math.exp(l_cur - c) * _phi(tab, w, cur),
                                  n_dk[r, prop] + doc_alpha, n_dk[r, cur] + doc_alpha):
                        cur, l_cur = prop, l_prop
                        q_cur = -1.0   # q_w(cur) computed when needed
                        stats[3] += 1
            # word proposal (the chain's first state when step == 0)
            st = advance(st)
            u1 = uniform(st)
            st = advance(st)
            u2 = uniform(st)
            x = u1 * Phi
            j = -1
            if J_w > 0 and x < A_h:
                target = u2 * p_head
                acc = 0.0
                j = J_w - 1
                for i in range(J_w):
                    acc += hq[i]
                    if target < acc:
                        j = i
                        break
                prop = tab.word_topic[a + j]
            elif x < A_h + A_r:
                n_r = n_w - J_w
                prop = tab.word_topic[a + J_w + _alias.draw(tab.rest_prob, tab.rest_alias,
                                                            a + J_w, n_r, u2)]
                j = -1
            else:
                prop = _alias.draw(tab.dense_prob, tab.dense_alias, 0, K, u2)
                j = _head_index(tab, a, J_w, prop)
            if step == 0:
                cur = prop
                if j >= 0:
                    l_cur = hl[j]
                else:
                    l_cur = dot(w_p, prop, h, r) + np.float64(b_p[prop])
                    stats[4] += 1
                q_cur = -1.0
                continue
            st = advance(st)
            u = uniform(st)
            stats[0] += 1
            if prop == cur:
                stats[1] += 1
                continue
            if j >= 0:
                l_prop = hl[j]
                q_prop = (A_h * hq[j] / p_head + tab.beta * tab.inv_nk[prop]) / Phi
            else:
                l_prop = dot(w_p, prop, h, r) + np.float64(b_p[prop])
                stats[4] += 1
                q_prop = _phi(tab, w, prop) / Phi
            if q_cur < 0.0:
                jc = _head_index(tab, a, J_w, cur)
                if jc >= 0:
                    q_cur = (A_h * hq[jc] / p_head + tab.beta * tab.inv_nk[cur]) / Phi
                else:
                    q_cur = _phi(tab, w, cur) / Phi
            if u < _ratio(math.exp(l_prop - c) * _phi(tab, w, prop),
                          math.exp(l_cur - c) * _phi(tab, w, cur), q_prop, q_cur):
                cur, l_cur, q_cur = prop, l_prop, q_prop
                stats[1] += 1
        rng_state[r] = st
        z[r] = cur
        z_out[tok] = cur
        n_dk[r, cur] += 1
