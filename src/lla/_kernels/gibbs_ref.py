"""Slow pure-Python twins of :mod:`lla._kernels.gibbs`, used only by tests.

Each function takes the same arguments as its numba counterpart, consumes random numbers in
the same order from the same SplitMix64 streams and evaluates the same floating-point
expressions, so on a small corpus the twin and the kernel produce identical assignments.
"""

import math

import numpy as np

from .gibbs import FAN, TOP
from .rng import GOLDEN, SplitMix64

f32 = np.float32

_MASK = (1 << 64) - 1


def count_topics(words, z, doc_ptr, n_dk, n_wk, n_k):
    for d in range(len(doc_ptr) - 1):
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            k = int(z[i])
            n_dk[d, k] += 1
            n_wk[words[i], k] += 1
            n_k[k] += 1


def tree_levels(n_leaves):
    """Twin of :func:`lla._kernels.gibbs.tree_levels`: the level sizes, leaves first."""
    sizes = [n_leaves]
    while sizes[-1] % FAN == 0 and sizes[-1] > TOP:
        sizes.append(sizes[-1] // FAN)
    return sizes + [1]


def tree_draw(leaves, r):
    """The sum tree of :func:`lla._kernels.gibbs.tree_sum` built from ``leaves`` (float32
    list, length a multiple of 8) as nested lists, its total, and the leaf that ``r`` (a
    float32 in [0, 1), scaled here by the total) selects as :func:`~lla._kernels.gibbs.tree_find`
    does — the same float32 operations in the same order."""
    sizes = tree_levels(len(leaves))
    levels = [list(leaves)]
    for n in sizes[1:-1]:
        src = levels[-1]
        levels.append([((src[q] + src[q + n]) + (src[q + 2 * n] + src[q + 3 * n]))
                       + ((src[q + 4 * n] + src[q + 5 * n]) + (src[q + 6 * n] + src[q + 7 * n]))
                       for q in range(n)])
    total = f32(0.0)
    for x in levels[-1]:
        total += x
    r = r * total
    top = levels[-1]
    idx = len(top) - 1
    for q in range(len(top) - 1):
        if r < top[q]:
            idx = q
            break
        r -= top[q]
    for j in range(len(levels) - 2, -1, -1):
        n = sizes[j + 1]
        c = 0
        while c < FAN - 1:
            x = levels[j][idx + c * n]
            if r < x:
                break
            r -= x
            c += 1
        idx += c * n
    return idx, total


def _sample_shard(words, doc_ptr, d_begin, d_end, z, z_word, n_dk, n_wk, n_k, word_ptr,
                  word_rank, alpha, beta, mh_steps, sampler, rng):
    V, Kp = n_wk.shape
    K = len(n_k)
    vbeta = V * beta
    kbeta = K * beta
    kalpha = K * alpha
    alpha32, beta32 = f32(alpha), f32(beta)
    vbeta32 = f32(V) * beta32
    n_leaves = max(Kp + (-Kp) % FAN, FAN)

    def coef(d, k):  # a_k = (n_dk + α) / (n_k + Vβ) in float32
        return (f32(int(n_dk[d, k])) + alpha32) / (f32(int(n_k[k])) + vbeta32)

    for d in range(d_begin, d_end):
        start, end = int(doc_ptr[d]), int(doc_ptr[d + 1])
        n_d = end - start
        a = [coef(d, k) if k < K else f32(0.0) for k in range(n_leaves)]
        for i in range(start, end):
            w = int(words[i])
            s = int(z[i])
            n_dk[d, s] -= 1
            n_wk[w, s] -= 1
            n_k[s] -= 1
            if sampler == 1:
                a[s] = coef(d, s)
                leaves = [a[k] * (f32(int(n_wk[w, k])) + beta32) if k < Kp else f32(0.0)
                          for k in range(n_leaves)]
                s, _ = tree_draw(leaves, f32(rng.uniform()))
                s = min(s, K - 1)
            else:
                base = int(word_ptr[w])
                rank = int(word_rank[i])
                n_o = int(word_ptr[w + 1]) - base - 1
                for _ in range(mh_steps):
                    x = rng.uniform() * (n_o + kbeta)
                    if x < n_o:
                        r = int(x)
                        if r >= rank:
                            r += 1
                        t = int(z_word[base + r])
                    else:
                        t = min(int((x - n_o) / beta), K - 1)
                    if t != s:
                        num = (int(n_dk[d, t]) + alpha) * (int(n_k[s]) + vbeta)
                        den = (int(n_dk[d, s]) + alpha) * (int(n_k[t]) + vbeta)
                        if rng.uniform() * den < num:
                            s = t
                            z[i] = s
                    x = rng.uniform() * (n_d + kalpha)
                    if x < n_d:
                        t = int(z[start + int(x)])
                    else:
                        t = min(int((x - n_d) / alpha), K - 1)
                    if t != s:
                        num = (int(n_wk[w, t]) + beta) * (int(n_k[s]) + vbeta)
                        den = (int(n_wk[w, s]) + beta) * (int(n_k[t]) + vbeta)
                        if rng.uniform() * den < num:
                            s = t
                            z[i] = s
                z_word[base + rank] = s
            z[i] = s
            n_dk[d, s] += 1
            n_wk[w, s] += 1
            n_k[s] += 1
            if sampler == 1:
                a[s] = coef(d, s)


def lda_sweep(words, doc_ptr, shard_ptr, visit, z, z_word, n_dk, n_wk, n_k, n_wk_loc, n_k_loc,
              word_ptr, word_pos, word_rank, alpha, beta, mh_steps, sampler, rng_state):
    """Twin of :func:`lla._kernels.gibbs.lda_sweep` (shards run one after the other)."""
    T = len(shard_ptr) - 1
    if sampler == 0:
        z_word[:] = z[word_pos][None, :]
    words_v, z_v, rank_v = words[visit], z[visit], word_rank[visit]   # visiting order
    for t in range(T):
        rng = SplitMix64(rng_state[t])
        _sample_shard(words_v, doc_ptr, shard_ptr[t], shard_ptr[t + 1], z_v, z_word[t], n_dk,
                      n_wk_loc[t], n_k_loc[t], word_ptr, rank_v, alpha, beta, mh_steps,
                      sampler, rng)
        rng_state[t] = np.uint64(rng.state)
    z[visit] = z_v
    K = n_wk.shape[1]
    old_wk = n_wk.copy()
    old_k = n_k.copy()
    n_wk[:] = old_wk + (n_wk_loc[:, :, :K].astype(np.int64) - old_wk).sum(axis=0)
    n_k[:] = old_k + (n_k_loc.astype(np.int64) - old_k).sum(axis=0)
    n_wk_loc[:, :, :K] = n_wk
    n_k_loc[:] = n_k


def log_joint(n_wk, n_k, n_dk, doc_len, alpha, beta):
    """Twin of :func:`lla._kernels.gibbs.log_joint`, straight from the formula."""
    V, K = n_wk.shape
    total = 0.0
    for k in range(K):
        total += math.lgamma(V * beta) - math.lgamma(int(n_k[k]) + V * beta)
        for w in range(V):
            total += math.lgamma(int(n_wk[w, k]) + beta) - math.lgamma(beta)
    for d in range(n_dk.shape[0]):
        total += math.lgamma(K * alpha) - math.lgamma(int(doc_len[d]) + K * alpha)
        for k in range(K):
            total += math.lgamma(int(n_dk[d, k]) + alpha) - math.lgamma(alpha)
    return total


def fold_in(words, doc_ptr, phi_wk, alpha, n_iter, n_burn, seed, theta):
    """Twin of :func:`lla._kernels.gibbs.fold_in`."""
    D = len(doc_ptr) - 1
    K = phi_wk.shape[1]
    for d in range(D):
        start = int(doc_ptr[d])
        n_d = int(doc_ptr[d + 1]) - start
        rng = SplitMix64(SplitMix64.mix((int(seed) + (d + 1) * GOLDEN) & _MASK))
        theta[d, :] = 0.0
        if n_d == 0:
            theta[d, :] = 1.0 / K
            continue
        n = [0] * K
        zd = [0] * n_d
        n_avg = 0
        for sweep in range(n_iter + 1):
            for j in range(n_d):
                w = int(words[start + j])
                if sweep > 0:
                    n[zd[j]] -= 1
                total = 0.0
                p = []
                for k in range(K):
                    total += (n[k] + alpha) * float(phi_wk[w, k])
                    p.append(total)
                u = rng.uniform() * total
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
            theta[d, :] /= n_avg
    return theta
