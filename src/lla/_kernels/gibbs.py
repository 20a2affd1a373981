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
* ``exact`` — the textbook dense sampler, O(K) per token (cumulative sum + linear search).

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
BLOCK = 8  # block size of the two-level search of the dense sampler


@njit(cache=True, inline="always")
def _draw_dense(n_dk, d, n_wk, w, inv_nk, alpha, beta, p, bsum, u):
    """Exact draw from p_k = (n_dk+α)(n_wk+β)/(n_k+Vβ) with inv_nk[k] = 1/(n_k+Vβ).

    The products are independent (vectorised); the cumulative search is two-level — sums of
    blocks of BLOCK topics, then inside the chosen block — so the serial dependency chain is
    ~K/BLOCK + BLOCK additions instead of K.  ``u`` uniform in [0, 1)."""
    K = p.size
    for k in range(K):
        p[k] = (n_dk[d, k] + alpha) * (n_wk[w, k] + beta) * inv_nk[k]
    nb = bsum.size
    for j in range(nb):
        acc = 0.0
        for k in range(j * BLOCK, min((j + 1) * BLOCK, K)):
            acc += p[k]
        bsum[j] = acc
    total = 0.0
    for j in range(nb):
        total += bsum[j]
    u = u * total
    cum = 0.0
    jb = nb - 1
    for j in range(nb):
        if u < cum + bsum[j]:
            jb = j
            break
        cum += bsum[j]
    last = jb * BLOCK
    for k in range(jb * BLOCK, min((jb + 1) * BLOCK, K)):
        if p[k] > 0.0:
            last = k
        cum += p[k]
        if u < cum:
            return k
    return last


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
def _sample_shard(words, doc_ptr, d_begin, d_end, z, z_word, n_dk, n_wk, n_k, word_ptr,
                  word_rank, alpha, beta, mh_steps, sampler, state, p, bsum, inv_nk):
    """One sweep over documents [d_begin, d_end); updates z, n_dk, n_wk, n_k and z_word in
    place and returns the advanced RNG state.  ``z_word`` (N,): this shard's word-major copy of
    z (sweep-start values for other shards' tokens, current values for its own), so that the
    topics it holds for type w are counted exactly by this shard's n_wk.  p (K,),
    bsum (ceil(K/BLOCK),) and inv_nk (K,) are scratch."""
    V, K = n_wk.shape
    vbeta = V * beta
    for k in range(K):
        inv_nk[k] = 1.0 / (n_k[k] + vbeta)
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
            inv_nk[s] = 1.0 / (n_k[s] + vbeta)
            if sampler == 1:
                state = advance(state)
                s = _draw_dense(n_dk, d, n_wk, w, inv_nk, alpha, beta, p, bsum, uniform(state))
            else:
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
            if sampler == 0:
                z_word[word_ptr[w] + word_rank[i]] = s
            n_dk[d, s] += 1
            n_wk[w, s] += 1
            n_k[s] += 1
            inv_nk[s] = 1.0 / (n_k[s] + vbeta)
    return state


@njit(cache=True, parallel=True)
def lda_sweep(words, doc_ptr, shard_ptr, z, z_word, n_dk, n_wk, n_k, n_wk_loc, n_k_loc,
              word_ptr, word_pos, word_rank, alpha, beta, mh_steps, sampler, rng_state):
    """One full sweep, AD-LDA style; one call is one atomic step for the Python caller.

    Arrays (all changed in place except words/doc_ptr/shard_ptr/word_ptr/word_pos):
      words (N,) int32; doc_ptr (D+1,) int64; shard_ptr (T+1,) int64 document boundaries;
      z (N,) int32 assignments; z_word (T, N) int32 scratch (per-shard word-major
      copies of z, z_word[t, j] = z[word_pos[j]] at the sweep start; unused by ``exact``);
      n_dk (D, K) int32; n_wk (V, K) int32 and n_k (K,) int32 — the global counts, sweep-start
      on entry, merged on return; n_wk_loc (T, V, K), n_k_loc (T, K) int32 per-shard copies,
      equal to n_wk / n_k on entry and on return; word_ptr (V+1,) int64 and word_pos (N,) int64
      the word-major token index (tokens of type w: word_pos[word_ptr[w]:word_ptr[w+1]]);
      word_rank (N,) int64: position of token i among the tokens of its type;
      sampler: 0 = mh, 1 = exact; rng_state (T,) uint64, advanced.
    Twin: :func:`lla._kernels.gibbs_ref.lda_sweep`.
    """
    T = shard_ptr.size - 1
    V, K = n_wk.shape
    if sampler == 0:
        for j in prange(z.size):
            z_word[0, j] = z[word_pos[j]]
        for t in range(1, T):
            z_word[t, :] = z_word[0]
    for t in prange(T):
        p = np.empty(K, dtype=np.float64)
        bsum = np.empty((K + BLOCK - 1) // BLOCK, dtype=np.float64)
        inv_nk = np.empty(K, dtype=np.float64)
        rng_state[t] = _sample_shard(words, doc_ptr, shard_ptr[t], shard_ptr[t + 1], z,
                                     z_word[t], n_dk, n_wk_loc[t], n_k_loc[t], word_ptr,
                                     word_rank, alpha, beta, mh_steps, sampler, rng_state[t],
                                     p, bsum, inv_nk)
    if T == 1:
        n_wk[:] = n_wk_loc[0]
        n_k[:] = n_k_loc[0]
        return
    for w in prange(V):
        for k in range(K):
            old = n_wk[w, k]
            new = old
            for t in range(T):
                new += n_wk_loc[t, w, k] - old
            n_wk[w, k] = new
            for t in range(T):
                n_wk_loc[t, w, k] = new
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
