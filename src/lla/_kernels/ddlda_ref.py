"""Pure-Python twin of :func:`lla._kernels.ddlda.ddlda_sweep` (tests only): same arithmetic,
same order of random draws, so the same seed gives the same assignments."""

from .rng import SplitMix64


def ddlda_sweep_ref(words, doc_ptr, z, n_wk, n_k, weights, alpha, beta, rng_state):
    V, K = n_wk.shape
    W = len(weights) - 1
    rng = SplitMix64(int(rng_state[0]))
    for d in range(len(doc_ptr) - 1):
        b, e = int(doc_ptr[d]), int(doc_ptr[d + 1])
        for i in range(b, e):
            w, old = int(words[i]), int(z[i])
            n_wk[w, old] -= 1
            n_k[old] -= 1
            p = [alpha] * K
            for j in range(max(b, i - W), min(e, i + W + 1)):
                if j != i:
                    p[int(z[j])] += float(weights[abs(i - j)])
            p = [p[k] * (n_wk[w, k] + beta) / (n_k[k] + V * beta) for k in range(K)]
            u = rng.uniform() * sum(p)
            new, acc = K - 1, 0.0
            for k in range(K):
                acc += p[k]
                if u < acc:
                    new = k
                    break
            z[i] = new
            n_wk[w, new] += 1
            n_k[new] += 1
    rng_state[0] = rng.state
