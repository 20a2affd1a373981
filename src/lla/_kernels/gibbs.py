"""Collapsed Gibbs sampling for LDA over flat token arrays (numba; DESIGN §2, §6).

Symbols (Griffiths & Steyvers 2004; DESIGN §1):  D documents, K topics, V word types,
N training (prefix) tokens.  ``words[i] = w_i`` and ``z[i] = z_i`` are flat int32 arrays in
document order, document d owning ``words[doc_ptr[d]:doc_ptr[d+1]]``.  Counts:
``n_dk[d, k]`` (D, K) tokens of d with topic k;  ``n_wk[w, k]`` (V, K) tokens of type w with
topic k (word-major: one word's row is contiguous);  ``n_k[k]`` (K,) = Σ_w n_wk.
The collapsed conditional of one token (¬ = counts without it) is

    p(z_i = k | rest) ∝ (n¬_dk + α) · (n¬_wk + β) / (n¬_k + Vβ).

Samplers (``lda_sweep``):

* ``mh`` — Metropolis–Hastings with O(1) proposals, cycling a word proposal and a document
  proposal ``mh_steps`` times per token (LightLDA, Yuan et al. 2015), each drawn without alias
  tables (WarpLDA-style, Chen et al. 2016):
    - word proposal q_w(k) ∝ n¬_wk + β: with probability (n_w − 1) / (n_w − 1 + Kβ) the
      current topic of a uniformly chosen *other* token of type w (read from a word-major copy
      of z kept up to date by the shard), else a uniform topic.  The word factors cancel in
      the acceptance min(1, (n¬_dt+α)(n¬_s+Vβ) / ((n¬_ds+α)(n¬_t+Vβ))).  Unlike LightLDA's
      stale alias tables this proposal is never out of date, so with one shard the chain is
      exact (tests/_kernels checks it against enumeration); a proposal from sweep-start
      topics, or one that includes token i itself, is measurably biased on small data.
    - document proposal q_d(k) ∝ n_dk + α (current state, token included): the topic of a
      uniformly chosen token of d, else a uniform topic; acceptance
      min(1, (n¬_wt+β)(n¬_s+Vβ) / ((n¬_ws+β)(n¬_t+Vβ))).
  Both are exact MH steps for the collapsed conditional, so the chain targets the same
  posterior as exact Gibbs; O(1) per token whatever K.
* ``exact`` — dense collapsed Gibbs, O(K) per token, in float32.  Per document the
  coefficients a_k = (n_dk + α) / (n_k + Vβ) are kept (a token changes only the entries of its
  old and new topic), the products p_k = a_k (n_wk + β) are formed in one vectorised pass as
  the leaves of a sum tree of fan-out 8 whose levels are vectorised sums (:func:`tree_levels`,
  :func:`tree_sum`), and one uniform descends the tree (:func:`tree_find`): ~K/8 vector
  additions and two short scans per token instead of a K-long cumulative sum.  Exact up to
  float32 rounding of the probabilities (relative error ~1e-6); tests compare the chain with
  enumeration of a tiny posterior and every leaf's selection frequency with its mass.

Tokens are visited document by document, inside a document grouped by word type
(:func:`visit_order`, as tomotopy does): consecutive tokens then share their n_wk row.  Any
fixed visiting order is a valid systematic-scan Gibbs sampler.

Parallelism (AD-LDA, Newman et al. 2009): documents are cut into ``T = len(shard_ptr) - 1``
contiguous shards; shard t samples against its own copy ``n_wk_loc[t]`` of the sweep-start
counts, which it updates in place; after the sweep the copies are merged,
n_wk ← n_wk° + Σ_t (n_wk_loc[t] − n_wk°).  With T = 1 this is exactly sequential collapsed
Gibbs.  The result depends on T (the number of shards), never on how many OS threads execute
them, so the same seed and the same ``T`` give bit-identical results.

Randomness: one SplitMix64 state per shard (``rng_state``, uint64 (T,), advanced in place); see
:mod:`lla._kernels.rng`.  Reference twin of every kernel: :mod:`lla._kernels.gibbs_ref`.
"""

import math

import numpy as np
from numba import njit, prange

from .rng import advance, mix, uniform

SAMPLERS = {"mh": 0, "exact": 1}
FAN = 8   # children of an inner node of the exact sampler's sum tree (one AVX2 float32 vector)
TOP = 16  # the root keeps up to this many children, scanned linearly


def padded_topics(K):
    """Leaves of the exact sampler's sum tree for K topics: K rounded up to a multiple of 64
    (of 8 for K ≤ 32), so that the lower levels split evenly into vectors of 8 (the padding
    leaves have probability 0).  ``lda_sweep`` runs fastest when the shard copies of n_wk are
    padded to this width (:func:`shard_counts`)."""
    K = int(K)
    step = 8 if K <= 32 else 64
    return -(-K // step) * step


@njit(cache=True)
def tree_levels(n_leaves):
    """The shape of the exact sampler's sum tree over ``n_leaves`` (a multiple of 8) leaves.

    Level 0 holds the leaves p_0 … p_{n-1}; level j+1 has n_{j+1} = n_j / 8 nodes, node q being
    the sum of the 8 nodes q, q + n_{j+1}, …, q + 7·n_{j+1} of level j (strided, so that a level
    is 8 contiguous vectors added together), until a level has ≤ TOP nodes (or is not a multiple
    of 8); the root (the last level, one node) is the sum of those.  All levels live in one
    float32 array, level j at offset ``lv_off[j]``.  Returns (lv_n, lv_off), int64 (L+1,).
    Example: 128 leaves → levels of 128, 16, 1 nodes; 1024 → 1024, 128, 16, 1."""
    L = 1
    n = n_leaves
    while n % FAN == 0 and n > TOP:
        n //= FAN
        L += 1
    lv_n = np.empty(L + 1, dtype=np.int64)
    lv_off = np.empty(L + 1, dtype=np.int64)
    n = n_leaves
    off = 0
    for j in range(L):
        lv_n[j] = n
        lv_off[j] = off
        off += n
        if j < L - 1:
            n //= FAN
    lv_n[L] = 1
    lv_off[L] = off
    return lv_n, lv_off


@njit(cache=True, inline="always")
def tree_sum(tree, lv_n, lv_off):
    """Fill the inner levels of the sum tree from its leaves ``tree[:lv_n[0]]`` (float32) and
    return the total.  Eight strided children are added as ((c0+c1)+(c2+c3))+((c4+c5)+(c6+c7)),
    the root's children left to right; the twin repeats exactly these float32 operations."""
    L = lv_n.size - 1
    for j in range(L - 1):
        n = lv_n[j + 1]
        src = tree[lv_off[j]:lv_off[j] + lv_n[j]]
        dst = tree[lv_off[j + 1]:lv_off[j + 1] + n]
        for q in range(n):
            dst[q] = ((src[q] + src[q + n]) + (src[q + 2 * n] + src[q + 3 * n])) + \
                     ((src[q + 4 * n] + src[q + 5 * n]) + (src[q + 6 * n] + src[q + 7 * n]))
    top = tree[lv_off[L - 1]:lv_off[L - 1] + lv_n[L - 1]]
    total = np.float32(0.0)
    for q in range(top.size):
        total += top[q]
    tree[lv_off[L]] = total
    return total


@njit(cache=True, inline="always")
def tree_find(tree, lv_n, lv_off, r):
    """The leaf k where ``r`` ∈ [0, total) falls, descending from the root: at each node the
    children are scanned left to right, subtracting the mass of those passed.  So leaf k is
    returned for a set of r of measure p_k (up to float32 rounding, after which the last child
    is taken)."""
    L = lv_n.size - 1
    ntop = lv_n[L - 1]
    off = lv_off[L - 1]
    idx = ntop - 1
    for q in range(ntop - 1):
        x = tree[off + q]
        if r < x:
            idx = q
            break
        r -= x
    for j in range(L - 2, -1, -1):
        n = lv_n[j + 1]
        pos = lv_off[j] + idx
        c = 0
        while c < FAN - 1:
            x = tree[pos]
            if r < x:
                break
            r -= x
            c += 1
            pos += n
        idx += c * n
    return idx


def shard_counts(n_wk, n_k, T, sampler):
    """The per-shard copies (n_wk_loc (T, V, Kp), n_k_loc (T, K)) that :func:`lda_sweep` works
    on, n_wk padded with zero columns to Kp = :func:`padded_topics` (K) for the exact sampler
    (its rows are then whole vectors), Kp = K for mh."""
    V, K = n_wk.shape
    Kp = padded_topics(K) if sampler == SAMPLERS["exact"] else K
    n_wk_loc = np.zeros((T, V, Kp), dtype=n_wk.dtype)
    n_wk_loc[:, :, :K] = n_wk
    return n_wk_loc, np.repeat(n_k[None], T, axis=0)


def word_index(words, V):
    """The word-major token index: (word_ptr (V+1,) int64, word_pos (N,) int64,
    word_rank (N,) int64).  The tokens of type w are word_pos[word_ptr[w]:word_ptr[w+1]] (in
    document order); token i is number word_rank[i] among them."""
    words = np.asarray(words)
    word_pos = np.argsort(words, kind="stable").astype(np.int64)
    word_ptr = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(np.bincount(words, minlength=V), out=word_ptr[1:])
    word_rank = np.empty(len(words), dtype=np.int64)
    word_rank[word_pos] = np.arange(len(words), dtype=np.int64) - word_ptr[words[word_pos]]
    return word_ptr, word_pos, word_rank


def visit_order(words, doc_ptr):
    """The order in which a sweep visits the tokens: (N,) int64, document by document (so
    ``visit[doc_ptr[d]:doc_ptr[d+1]]`` is a permutation of d's token indices) and inside a
    document grouped by word type (stable sort by word id; tomotopy does the same).  Any fixed
    order is a valid systematic-scan Gibbs sampler; this one makes consecutive tokens share
    their n_wk row (cache) and, mostly, their topic distribution (branch prediction): ~5 %
    faster on wiki at K = 100 than document order."""
    words = np.asarray(words)
    doc_ptr = np.asarray(doc_ptr)
    doc_of = np.repeat(np.arange(len(doc_ptr) - 1), np.diff(doc_ptr))
    return np.lexsort((words, doc_of)).astype(np.int64)


@njit(cache=True)
def count_topics(words, z, doc_ptr, n_dk, n_wk, n_k):
    """Fill (zeroed) ``n_dk`` (D, K), ``n_wk`` (V, K), ``n_k`` (K,) from assignments ``z``."""
    D = doc_ptr.size - 1
    for d in range(D):
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            k = z[i]
            n_dk[d, k] += 1
            n_wk[words[i], k] += 1
            n_k[k] += 1


@njit(cache=True)
def _sample_shard_exact(words, doc_ptr, d_begin, d_end, z, n_dk, n_wk, n_k, alpha, beta, state,
                        a, tree, lv_n, lv_off):
    """One exact sweep over documents [d_begin, d_end) (``words``, ``z`` in visiting order);
    updates z, n_dk, n_wk, n_k in place and returns the advanced RNG state.
    ``n_wk`` (V, Kp ≥ K): this shard's copy, columns ≥ K zero.  Scratch: a (Kt,) float32, zero
    beyond K, and the sum tree ``tree`` (lv_off[-1] + 1,) float32 over Kt = lv_n[0] ≥ Kp
    leaves (:func:`tree_levels`), zero beyond Kp.  Twin: ``gibbs_ref._sample_shard``."""
    V, Kp = n_wk.shape
    K = n_k.size
    alpha32 = np.float32(alpha)
    beta32 = np.float32(beta)
    vbeta32 = np.float32(V) * beta32
    leaves = tree[:Kp]
    for d in range(d_begin, d_end):
        # a_k = (n_dk + α) / (n_k + Vβ): within d only the entries of the changed topics move
        for k in range(K):
            a[k] = (np.float32(n_dk[d, k]) + alpha32) / (np.float32(n_k[k]) + vbeta32)
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            w = words[i]
            s = z[i]
            n_dk[d, s] -= 1
            n_wk[w, s] -= 1
            n_k[s] -= 1
            a[s] = (np.float32(n_dk[d, s]) + alpha32) / (np.float32(n_k[s]) + vbeta32)
            row = n_wk[w]
            for k in range(Kp):                 # p_k = a_k (n_wk + β), vectorised
                leaves[k] = a[k] * (np.float32(row[k]) + beta32)
            total = tree_sum(tree, lv_n, lv_off)
            state = advance(state)
            s = tree_find(tree, lv_n, lv_off, np.float32(uniform(state)) * total)
            if s >= K:  # only reachable through rounding at the very end of the range
                s = K - 1
            z[i] = s
            n_dk[d, s] += 1
            n_wk[w, s] += 1
            n_k[s] += 1
            a[s] = (np.float32(n_dk[d, s]) + alpha32) / (np.float32(n_k[s]) + vbeta32)
    return state


@njit(cache=True)
def _sample_shard_mh(words, doc_ptr, d_begin, d_end, z, z_word, n_dk, n_wk, n_k, word_ptr,
                     word_rank, alpha, beta, mh_steps, state):
    """One MH sweep over documents [d_begin, d_end) (``words``, ``z``, ``word_rank`` in visiting
    order); updates z, n_dk, n_wk, n_k and z_word in place and returns the advanced RNG state.
    ``n_wk`` (V, Kp ≥ K): this shard's copy.  ``z_word`` (N,): this shard's word-major copy of
    z (sweep-start values for other shards' tokens, current values for its own), so that the
    topics it holds for type w are counted exactly by this shard's n_wk.
    Twin: ``gibbs_ref._sample_shard``."""
    V = n_wk.shape[0]
    K = n_k.size
    vbeta = V * beta
    kbeta = K * beta
    kalpha = K * alpha
    for d in range(d_begin, d_end):
        start = doc_ptr[d]
        end = doc_ptr[d + 1]
        n_d = end - start
        for i in range(start, end):
            w = words[i]
            s = z[i]
            n_dk[d, s] -= 1
            n_wk[w, s] -= 1
            n_k[s] -= 1
            base = word_ptr[w]
            rank = word_rank[i]
            n_o = word_ptr[w + 1] - base - 1  # the other tokens of type w
            for _ in range(mh_steps):
                # word proposal  q_w(k) ∝ n¬_wk + β, via the topic of another token of w
                state = advance(state)
                x = uniform(state) * (n_o + kbeta)
                if x < n_o:
                    r = int(x)
                    if r >= rank:
                        r += 1
                    t = z_word[base + r]
                else:
                    t = int((x - n_o) / beta)
                    if t >= K:
                        t = K - 1
                if t != s:
                    num = (n_dk[d, t] + alpha) * (n_k[s] + vbeta)
                    den = (n_dk[d, s] + alpha) * (n_k[t] + vbeta)
                    state = advance(state)
                    if uniform(state) * den < num:
                        s = t
                        z[i] = s
                # document proposal  q_d(k) ∝ n_dk + α (token included)
                state = advance(state)
                x = uniform(state) * (n_d + kalpha)
                if x < n_d:
                    t = z[start + int(x)]
                else:
                    t = int((x - n_d) / alpha)
                    if t >= K:
                        t = K - 1
                if t != s:
                    num = (n_wk[w, t] + beta) * (n_k[s] + vbeta)
                    den = (n_wk[w, s] + beta) * (n_k[t] + vbeta)
                    state = advance(state)
                    if uniform(state) * den < num:
                        s = t
                        z[i] = s
            z[i] = s
            z_word[base + rank] = s
            n_dk[d, s] += 1
            n_wk[w, s] += 1
            n_k[s] += 1
    return state


@njit(cache=True, parallel=True)
def lda_sweep(words, doc_ptr, shard_ptr, visit, z, z_word, n_dk, n_wk, n_k, n_wk_loc, n_k_loc,
              word_ptr, word_pos, word_rank, alpha, beta, mh_steps, sampler, rng_state):
    """One full sweep, AD-LDA style; one call is one atomic step for the Python caller.

    Arrays (all changed in place except words/doc_ptr/shard_ptr/word_ptr/word_pos):
      words (N,) int32; doc_ptr (D+1,) int64; shard_ptr (T+1,) int64 document boundaries;
      visit (N,) int64 the order of the tokens within each document (:func:`visit_order`);
      z (N,) int32 assignments; z_word (T, N) int32 scratch (per-shard word-major
      copies of z, z_word[t, j] = z[word_pos[j]] at the sweep start; unused by ``exact``);
      n_dk (D, K) int32; n_wk (V, K) int32 and n_k (K,) int32 — the global counts, sweep-start
      on entry, merged on return; n_wk_loc (T, V, Kp) int32 with Kp ≥ K, n_k_loc (T, K) int32
      per-shard copies, equal to n_wk / n_k on entry and on return (columns ≥ K of n_wk_loc
      zero; :func:`shard_counts` makes them); word_ptr (V+1,) int64 and word_pos (N,) int64
      the word-major token index (tokens of type w: word_pos[word_ptr[w]:word_ptr[w+1]]);
      word_rank (N,) int64: position of token i among the tokens of its type;
      sampler: 0 = mh, 1 = exact; rng_state (T,) uint64, advanced.
    Twin: :func:`lla._kernels.gibbs_ref.lda_sweep`.
    """
    T = shard_ptr.size - 1
    V, K = n_wk.shape
    Kp = n_wk_loc.shape[2]
    N = z.size
    # Each shard reads its words, z (and word ranks) in visiting order from sequential copies
    # (indexing through visit costs ~20 %); z itself stays at its sweep-start values until all
    # shards are done, so that every shard (and its word-major z_word) sees the same start.
    # One parallel region samples, a second merges: each region end is a barrier.
    words_v = np.empty(N, dtype=words.dtype)
    z_v = np.empty(N, dtype=z.dtype)
    rank_v = np.empty(N if sampler == 0 else 0, dtype=word_rank.dtype)
    n_leaves = max(Kp + (-Kp) % FAN, FAN)
    lv_n, lv_off = tree_levels(n_leaves)
    for t in prange(T):
        lo = doc_ptr[shard_ptr[t]]
        hi = doc_ptr[shard_ptr[t + 1]]
        for j in range(lo, hi):
            i = visit[j]
            words_v[j] = words[i]
            z_v[j] = z[i]
            if sampler == 0:
                rank_v[j] = word_rank[i]
        if sampler == 1:
            a = np.zeros(n_leaves, dtype=np.float32)  # stays 0 beyond K: padding leaves p = 0
            tree = np.zeros(lv_off[-1] + 1, dtype=np.float32)
            rng_state[t] = _sample_shard_exact(words_v, doc_ptr, shard_ptr[t], shard_ptr[t + 1],
                                               z_v, n_dk, n_wk_loc[t], n_k_loc[t], alpha, beta,
                                               rng_state[t], a, tree, lv_n, lv_off)
        else:
            zw = z_word[t]
            for j in range(N):
                zw[j] = z[word_pos[j]]
            rng_state[t] = _sample_shard_mh(words_v, doc_ptr, shard_ptr[t], shard_ptr[t + 1],
                                            z_v, zw, n_dk, n_wk_loc[t], n_k_loc[t], word_ptr,
                                            rank_v, alpha, beta, mh_steps, rng_state[t])
        if T == 1:
            for j in range(lo, hi):
                z[visit[j]] = z_v[j]
    if T == 1:
        n_wk[:] = n_wk_loc[0, :, :K]
        n_k[:] = n_k_loc[0]
        return
    for t in prange(T):
        for j in range(doc_ptr[shard_ptr[t]], doc_ptr[shard_ptr[t + 1]]):
            z[visit[j]] = z_v[j]
        for w in range(t * V // T, (t + 1) * V // T):
            for k in range(K):
                old = n_wk[w, k]
                new = old
                for u in range(T):
                    new += n_wk_loc[u, w, k] - old
                n_wk[w, k] = new
                for u in range(T):
                    n_wk_loc[u, w, k] = new
    for k in range(K):
        old = n_k[k]
        new = old
        for t in range(T):
            new += n_k_loc[t, k] - old
        n_k[k] = new
        for t in range(T):
            n_k_loc[t, k] = new


@njit(cache=True, parallel=True)
def log_joint(n_wk, n_k, n_dk, doc_len, alpha, beta):
    """log p(w, z | α, β) of the collapsed model (nats), from the counts:

        Σ_k [lnΓ(Vβ) − lnΓ(n_k + Vβ) + Σ_w (lnΓ(n_wk + β) − lnΓ(β))]
      + Σ_d [lnΓ(Kα) − lnΓ(N_d + Kα) + Σ_k (lnΓ(n_dk + α) − lnΓ(α))]

    n_wk (V, K), n_k (K,), n_dk (D, K), doc_len (D,) = N_d.  Zero counts contribute nothing, so
    lnΓ is evaluated at non-zeros only.  Twin: :func:`lla._kernels.gibbs_ref.log_joint`."""
    V, K = n_wk.shape
    D = n_dk.shape[0]
    lg_beta = math.lgamma(beta)
    lg_alpha = math.lgamma(alpha)
    total = 0.0
    for w in prange(V):
        acc = 0.0
        for k in range(K):
            c = n_wk[w, k]
            if c > 0:
                acc += math.lgamma(c + beta) - lg_beta
        total += acc
    for d in prange(D):
        acc = 0.0
        for k in range(K):
            c = n_dk[d, k]
            if c > 0:
                acc += math.lgamma(c + alpha) - lg_alpha
        total += acc + math.lgamma(K * alpha) - math.lgamma(doc_len[d] + K * alpha)
    for k in range(K):
        total += math.lgamma(V * beta) - math.lgamma(n_k[k] + V * beta)
    return total


@njit(cache=True, parallel=True)
def fold_in(words, doc_ptr, phi_wk, alpha, n_iter, n_burn, seed, theta):
    """Gibbs fold-in with φ fixed: p(z_i = k) ∝ (n¬_dk + α) φ_wk, documents independent.

    words (N,) int32, doc_ptr (D+1,) int64, phi_wk (V, K) float64 = φ transposed (word-major),
    n_iter sweeps after one sequential initial pass (each token drawn given the tokens before
    it), θ_d = mean over sweeps ≥ n_burn of (n_dk + α) / (N_d + Kα) is written to ``theta``
    (D, K) float64.  Document d uses its own RNG state mix(seed + (d+1)·golden), so the result
    does not depend on the number of threads.  Twin: :func:`lla._kernels.gibbs_ref.fold_in`."""
    D = doc_ptr.size - 1
    K = phi_wk.shape[1]
    for d in prange(D):
        start = doc_ptr[d]
        n_d = doc_ptr[d + 1] - start
        state = mix(np.uint64(seed) + np.uint64(d + 1) * np.uint64(0x9E3779B97F4A7C15))
        n = np.zeros(K, dtype=np.int64)
        zd = np.empty(max(n_d, 1), dtype=np.int64)
        p = np.empty(K, dtype=np.float64)
        for k in range(K):
            theta[d, k] = 0.0
        if n_d == 0:
            for k in range(K):
                theta[d, k] = 1.0 / K
            continue
        n_avg = 0
        for sweep in range(n_iter + 1):
            for j in range(n_d):
                w = words[start + j]
                if sweep > 0:
                    n[zd[j]] -= 1
                total = 0.0
                for k in range(K):
                    total += (n[k] + alpha) * phi_wk[w, k]
                    p[k] = total
                state = advance(state)
                u = uniform(state) * total
                s = K - 1
                for k in range(K):
                    if u < p[k]:
                        s = k
                        break
                zd[j] = s
                n[s] += 1
            if sweep >= 1 and sweep > n_burn:
                n_avg += 1
                for k in range(K):
                    theta[d, k] += (n[k] + alpha) / (n_d + K * alpha)
        if n_avg == 0:
            for k in range(K):
                theta[d, k] = (n[k] + alpha) / (n_d + K * alpha)
        else:
            for k in range(K):
                theta[d, k] /= n_avg
    return theta


@njit(cache=True, parallel=True)
def mixture_log_prob(words, doc_ptr, theta, phi_wk, out):
    """out[i] = log Σ_k θ_dk φ_{w_i k} for the tokens of every document d.

    words (M,) int32, doc_ptr (D+1,) int64, theta (D, K), phi_wk (V, K), out (M,) float64."""
    D = doc_ptr.size - 1
    K = theta.shape[1]
    for d in prange(D):
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            w = words[i]
            acc = 0.0
            for k in range(K):
                acc += theta[d, k] * phi_wk[w, k]
            out[i] = math.log(acc)
    return out
