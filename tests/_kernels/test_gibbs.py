"""The numba Gibbs kernels against their pure-Python twins, the count invariants, and the
stationary distribution against exact enumeration on a tiny problem."""

import itertools
import math

import numpy as np
import pytest

from lla._kernels import gibbs, gibbs_ref
from lla._kernels.rng import SplitMix64, advance, uniform


def _corpus(seed, D=10, V=25, lo=4, hi=20):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(lo, hi, D)
    doc_ptr = np.zeros(D + 1, np.int64)
    np.cumsum(lengths, out=doc_ptr[1:])
    words = rng.integers(0, V, doc_ptr[-1]).astype(np.int32)
    return words, doc_ptr, V


def _state(words, doc_ptr, V, K, T, sampler, seed=0, mh_steps=2, alpha=0.1, beta=0.01, z=None):
    D = len(doc_ptr) - 1
    if z is None:
        z = np.random.default_rng(seed).integers(0, K, len(words)).astype(np.int32)
    n_dk = np.zeros((D, K), np.int32)
    n_wk = np.zeros((V, K), np.int32)
    n_k = np.zeros(K, np.int32)
    gibbs.count_topics(words, z, doc_ptr, n_dk, n_wk, n_k)
    word_ptr, word_pos, word_rank = gibbs.word_index(words, V)
    shard_ptr = np.linspace(0, D, T + 1).astype(np.int64)
    rng_state = (np.arange(1, T + 1, dtype=np.uint64) * np.uint64(7919) + np.uint64(seed))
    n_wk_loc, n_k_loc = gibbs.shard_counts(n_wk, n_k, T, sampler)
    visit = gibbs.visit_order(words, doc_ptr)
    return [words, doc_ptr, shard_ptr, visit, z, np.empty((T, len(z)), np.int32), n_dk, n_wk,
            n_k, n_wk_loc, n_k_loc, word_ptr, word_pos, word_rank, alpha, beta, mh_steps, sampler,
            rng_state]


# positions in the argument list of lda_sweep
Z, N_DK, N_WK, N_K, N_WK_LOC, N_K_LOC, RNG = 4, 6, 7, 8, 9, 10, 18


def _copy(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _recount(words, z, doc_ptr, D, V, K):
    n_dk = np.zeros((D, K), np.int32)
    n_wk = np.zeros((V, K), np.int32)
    n_k = np.zeros(K, np.int32)
    gibbs_ref.count_topics(words, z, doc_ptr, n_dk, n_wk, n_k)
    return n_dk, n_wk, n_k


def test_rng_twin_same_sequence():
    from numba import njit

    @njit
    def draws(seed, n):
        out = np.empty(n)
        state = np.uint64(seed)
        for i in range(n):
            state = advance(state)
            out[i] = uniform(state)
        return out

    twin = SplitMix64(2**63 + 12345)
    expected = [twin.uniform() for _ in range(1000)]
    got = draws(np.uint64(2**63 + 12345), 1000)
    assert got.tolist() == expected
    assert 0.0 <= got.min() and got.max() < 1.0 and abs(got.mean() - 0.5) < 0.05


@pytest.mark.slow
@pytest.mark.parametrize("sampler", [0, 1], ids=["mh", "exact"])
@pytest.mark.parametrize("T", [1, 3])
@pytest.mark.parametrize("K", [4, 37, 150])   # sum trees of 8 | 64, 8 | 192, 24, 3 leaves/nodes
def test_kernel_and_twin_same_assignments_and_counts_stay_consistent(sampler, T, K):
    words, doc_ptr, V = _corpus(1)
    D = len(doc_ptr) - 1
    fast = _state(words, doc_ptr, V, K, T, sampler)
    slow = _copy(fast)
    changed = False
    for _ in range(4):
        z_before = fast[Z].copy()
        gibbs.lda_sweep(*fast)
        gibbs_ref.lda_sweep(*slow)
        changed |= not np.array_equal(z_before, fast[Z])
        np.testing.assert_array_equal(fast[Z], slow[Z])
        np.testing.assert_array_equal(fast[RNG], slow[RNG])
        n_dk, n_wk, n_k = _recount(words, fast[Z], doc_ptr, D, V, K)
        np.testing.assert_array_equal(fast[N_DK], n_dk)
        np.testing.assert_array_equal(fast[N_WK], n_wk)
        np.testing.assert_array_equal(fast[N_K], n_k)
        for t in range(T):                                       # shard copies re-synced
            np.testing.assert_array_equal(fast[N_WK_LOC][t, :, :K], n_wk)
            assert not fast[N_WK_LOC][t, :, K:].any()            # padding columns stay 0
            np.testing.assert_array_equal(fast[N_K_LOC][t], n_k)
    assert changed


@pytest.mark.parametrize("sampler", [0, 1], ids=["mh", "exact"])
def test_result_depends_on_the_shards_not_on_the_os_threads(sampler):
    import numba
    words, doc_ptr, V = _corpus(5, D=12)
    one = _state(words, doc_ptr, V, 37, 3, sampler)
    two = _copy(one)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        for _ in range(3):
            gibbs.lda_sweep(*one)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        for _ in range(3):
            gibbs.lda_sweep(*two)
    finally:
        numba.set_num_threads(old)
    for pos in (Z, N_DK, N_WK, N_K, RNG):
        np.testing.assert_array_equal(one[pos], two[pos])


def test_shards_see_only_sweep_start_counts_of_other_shards():
    # two identical documents in two shards with the same RNG state must make the same moves
    words = np.array([0, 1, 2, 3, 0, 1, 2, 3], np.int32)
    doc_ptr = np.array([0, 4, 8], np.int64)
    z = np.array([0, 1, 0, 1, 0, 1, 0, 1], np.int32)
    args = _state(words, doc_ptr, 4, 3, 2, 1, z=z)
    args[RNG][:] = 99
    gibbs.lda_sweep(*args)
    # shard 1 reads the word counts of shard 0 at the sweep start, so both shards sample from
    # the same conditionals with the same uniforms
    np.testing.assert_array_equal(args[Z][:4], args[Z][4:])


@pytest.mark.parametrize("n_leaves", [8, 24, 64, 128, 192, 1024])
def test_sum_tree_selects_every_leaf_with_its_probability(n_leaves):
    """Uniforms on a fine grid must land on leaf k in proportion p_k — exactly, up to one grid
    step per leaf boundary and float32 rounding.  A descent that mixed up the strided children
    (or a tree level summed in the wrong order) would put whole leaves' masses elsewhere."""
    from numba import njit

    @njit
    def draws(leaves, grid):
        lv_n, lv_off = gibbs.tree_levels(leaves.size)
        tree = np.zeros(lv_off[-1] + 1, np.float32)
        tree[:leaves.size] = leaves
        total = gibbs.tree_sum(tree, lv_n, lv_off)
        out = np.empty(grid.size, np.int64)
        for i in range(grid.size):
            out[i] = gibbs.tree_find(tree, lv_n, lv_off, grid[i] * total)
        return out, total

    K = n_leaves - 5                                    # the last 5 leaves are padding (p = 0)
    rng = np.random.default_rng(n_leaves)
    leaves = np.zeros(n_leaves, np.float32)
    leaves[:K] = rng.gamma(0.3, size=K)                 # skewed, like a topic conditional
    M = 200_000
    grid = ((np.arange(M) + 0.5) / M).astype(np.float32)
    got, total = draws(leaves, grid)
    assert total == pytest.approx(leaves.sum(dtype=np.float64), rel=1e-5)
    counts = np.bincount(got, minlength=n_leaves)
    expected = M * leaves.astype(np.float64) / leaves.sum(dtype=np.float64)
    assert np.abs(counts - expected).max() <= 2 + 1e-5 * M
    assert counts[K:].sum() == 0
    # the twin selects the same leaf for the same uniform
    for u in grid[::997]:
        k, _ = gibbs_ref.tree_draw([np.float32(x) for x in leaves], u)
        assert k == got[int(u * M)]
    # the sizes of the levels
    lv_n, lv_off = gibbs.tree_levels(n_leaves)
    assert lv_n.tolist() == gibbs_ref.tree_levels(n_leaves)
    assert lv_n[-2] <= gibbs.TOP or lv_n[-2] % gibbs.FAN
    assert lv_off.tolist() == np.concatenate([[0], np.cumsum(lv_n)[:-1]]).tolist()


def test_padded_topics():
    assert [gibbs.padded_topics(K) for K in (1, 8, 9, 32, 33, 100, 1000)] == \
        [8, 8, 16, 32, 64, 128, 1024]


def _exact_posterior(words, doc_ptr, V, K, alpha, beta):
    """p(z | w) by enumerating every assignment of a tiny corpus."""
    N, D = len(words), len(doc_ptr) - 1
    states = list(itertools.product(range(K), repeat=N))
    logp = []
    for z in states:
        n_dk, n_wk, n_k = _recount(words, np.array(z, np.int32), doc_ptr, D, V, K)
        logp.append(gibbs_ref.log_joint(n_wk, n_k, n_dk, np.diff(doc_ptr), alpha, beta))
    logp = np.array(logp)
    p = np.exp(logp - logp.max())
    return states, p / p.sum()


@pytest.mark.parametrize("sampler", [0, 1], ids=["mh", "exact"])
def test_chain_matches_exact_posterior_by_enumeration(sampler):
    words = np.array([0, 1, 0, 1, 1, 2], np.int32)
    doc_ptr = np.array([0, 3, 6], np.int64)
    V, K, alpha, beta = 3, 2, 0.5, 0.3
    states, exact = _exact_posterior(words, doc_ptr, V, K, alpha, beta)
    index = {s: i for i, s in enumerate(states)}
    args = _state(words, doc_ptr, V, K, 1, sampler, alpha=alpha, beta=beta, mh_steps=1)
    n_sweeps = 60000
    freq = np.zeros(len(states))
    for _ in range(n_sweeps):
        gibbs.lda_sweep(*args)
        freq[index[tuple(args[Z].tolist())]] += 1
    freq /= n_sweeps
    # total variation distance small; a wrong acceptance ratio gives > 0.05 here
    assert 0.5 * np.abs(freq - exact).sum() < 0.02


def test_log_joint_matches_twin():
    words, doc_ptr, V = _corpus(2)
    args = _state(words, doc_ptr, V, 5, 1, 0)
    gibbs.lda_sweep(*args)
    n_dk, n_wk, n_k = args[N_DK], args[N_WK], args[N_K]
    got = gibbs.log_joint(n_wk, n_k, n_dk, np.diff(doc_ptr), 0.1, 0.01)
    want = gibbs_ref.log_joint(n_wk, n_k, n_dk, np.diff(doc_ptr), 0.1, 0.01)
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.slow
def test_fold_in_matches_twin_and_does_not_depend_on_threads():
    import numba
    words, doc_ptr, V = _corpus(3)
    K = 4
    phi_wk = np.random.default_rng(0).dirichlet(np.ones(V), K).T.copy()
    fast = gibbs.fold_in(words, doc_ptr, phi_wk, 0.1, 8, 4, np.uint64(5), np.zeros((10, K)))
    slow = gibbs_ref.fold_in(words, doc_ptr, phi_wk, 0.1, 8, 4, np.uint64(5), np.zeros((10, K)))
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_allclose(fast.sum(axis=1), 1.0)
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one = gibbs.fold_in(words, doc_ptr, phi_wk, 0.1, 8, 4, np.uint64(5), np.zeros((10, K)))
    finally:
        numba.set_num_threads(old)
    np.testing.assert_array_equal(fast, one)


def test_mixture_log_prob_matches_numpy():
    rng = np.random.default_rng(4)
    words, doc_ptr, V = _corpus(4)
    theta = rng.dirichlet(np.ones(3), len(doc_ptr) - 1)
    phi_wk = rng.dirichlet(np.ones(V), 3).T.copy()
    out = gibbs.mixture_log_prob(words, doc_ptr, theta, phi_wk, np.empty(len(words)))
    doc_of = np.repeat(np.arange(len(doc_ptr) - 1), np.diff(doc_ptr))
    want = np.log(np.einsum("ik,ik->i", theta[doc_of], phi_wk[words]))
    np.testing.assert_allclose(out, want, rtol=1e-12)
    assert math.isfinite(out.sum())
