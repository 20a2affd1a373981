import numpy as np

from lla._kernels.ddlda import ddlda_sweep
from lla._kernels.ddlda_ref import ddlda_sweep_ref
from lla.inference.priors import decay_weights


def _state(seed=0, K=4, V=15):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 25, 8)
    words = rng.integers(0, V, lengths.sum()).astype(np.int32)
    doc_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    z = rng.integers(0, K, words.size).astype(np.int32)
    n_wk = np.zeros((V, K), np.int32)
    np.add.at(n_wk, (words, z), 1)
    return words, doc_ptr, z, n_wk, n_wk.sum(0).astype(np.int64)


def test_kernel_and_twin_give_identical_assignments():
    for kernel in ("exponential", "window"):
        words, doc_ptr, z, n_wk, n_k = _state()
        z2, n_wk2, n_k2 = z.copy(), n_wk.copy(), n_k.copy()
        weights = decay_weights(kernel, 3, 2.0)
        s1 = np.array([12345], np.uint64)
        s2 = s1.copy()
        for _ in range(3):
            ddlda_sweep(words, doc_ptr, z, n_wk, n_k, weights, 0.1, 0.01, s1)
            ddlda_sweep_ref(words, doc_ptr, z2, n_wk2, n_k2, weights, 0.1, 0.01, s2)
            assert np.array_equal(z, z2) and np.array_equal(n_wk, n_wk2)
            assert s1[0] == s2[0]


def test_counts_stay_consistent():
    words, doc_ptr, z, n_wk, n_k = _state(1)
    s = np.array([7], np.uint64)
    for _ in range(5):
        ddlda_sweep(words, doc_ptr, z, n_wk, n_k, decay_weights("exponential", 4, 3.0),
                    0.1, 0.01, s)
        expect = np.zeros_like(n_wk)
        np.add.at(expect, (words, z), 1)
        assert np.array_equal(n_wk, expect) and np.array_equal(n_k, expect.sum(0))


def test_conditional_matches_exact_on_one_token():
    # one document of 3 tokens, sample the middle one many times from a fixed state
    K, V = 3, 4
    words = np.array([0, 1, 2], np.int32)
    weights = decay_weights("window", 2, 1.0)
    alpha, beta = 0.5, 0.1
    counts = np.zeros(K)
    s = np.array([99], np.uint64)
    n_draws = 4000
    for _ in range(n_draws):
        z = np.array([0, 1, 2], np.int32)
        n_wk = np.zeros((V, K), np.int32)
        np.add.at(n_wk, (words, z), 1)
        n_k = n_wk.sum(0).astype(np.int64)
        ddlda_sweep(words[1:2], np.array([0, 1]), z[1:2], n_wk, n_k, weights, alpha, beta, s)
        counts[z[1]] += 1
    # token 1 alone in its "document": prior α only; word term with token removed
    p = alpha * (np.array([0, 0, 0]) + beta) / (np.array([1, 0, 1]) + V * beta)
    p /= p.sum()
    se = np.sqrt(p * (1 - p) / n_draws)
    assert np.all(np.abs(counts / n_draws - p) < 4 * se)
