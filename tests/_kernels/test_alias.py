"""Alias tables: the implied distribution equals the weights exactly, the numba build equals its
twin, and draws follow the distribution (χ², with a check that the test rejects a wrong one)."""

import numpy as np
from numba import njit
from scipy import stats

from lla._kernels import alias, alias_ref
from lla._kernels.rng import advance, uniform


def _build(weights):
    n = len(weights)
    prob, tab = np.empty(n), np.empty(n, np.int32)
    alias.build(np.asarray(weights, float), prob, tab, np.empty(n, np.int64),
                np.empty(n, np.int64))
    return prob, tab


def test_implied_distribution_is_the_weights_and_twin_is_identical():
    rng = np.random.default_rng(0)
    for weights in (rng.gamma(0.3, size=50), rng.random(7), np.array([5.0]),
                    np.array([1e-9, 1.0, 0.0, 3.0]), np.ones(16)):
        prob, tab = _build(weights)
        assert np.allclose(alias.implied_distribution(prob, tab), weights / weights.sum(),
                           rtol=1e-12, atol=1e-15)
        ref_prob, ref_alias = alias_ref.build(weights)
        assert np.array_equal(prob, ref_prob) and np.array_equal(tab, ref_alias)


def test_csr_tables_one_per_row():
    rng = np.random.default_rng(1)
    lengths = np.array([3, 0, 1, 8, 2])
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    weights = rng.random(ptr[-1]) + 0.01
    prob, tab = np.empty(ptr[-1]), np.empty(ptr[-1], np.int32)
    alias.build_csr(ptr, weights, prob, tab)
    for r in range(len(lengths)):
        a, e = ptr[r], ptr[r + 1]
        if e > a:
            assert np.allclose(alias.implied_distribution(prob[a:e], tab[a:e]),
                               weights[a:e] / weights[a:e].sum())


@njit
def _draws(prob, tab, n, seed):
    out = np.empty(n, np.int64)
    state = np.uint64(seed)
    for i in range(n):
        state = advance(state)
        out[i] = alias.draw(prob, tab, 0, prob.size, uniform(state))
    return out


def test_draws_follow_the_distribution():
    weights = np.random.default_rng(2).gamma(0.5, size=40) + 1e-3
    p = weights / weights.sum()
    prob, tab = _build(weights)
    n = 200_000
    counts = np.bincount(_draws(prob, tab, n, 7), minlength=40)
    assert stats.chisquare(counts, p * n).pvalue > 1e-4
    # the test has power: 3 % of the largest outcome's mass moved to another is rejected
    big = int(np.argmax(p))
    wrong = p.copy()
    wrong[big] -= 0.03 * p[big]
    wrong[(big + 1) % 40] += 0.03 * p[big]
    assert stats.chisquare(counts, wrong * n).pvalue < 1e-6
    # the twin's draw agrees draw for draw on the same uniforms
    u = np.random.default_rng(3).random(2000)
    ours = [alias_ref.draw(prob, tab, x) for x in u]

    @njit
    def numba_draws(prob, tab, u):
        return np.array([alias.draw(prob, tab, 0, prob.size, x) for x in u])
    assert np.array_equal(numba_draws(prob, tab, u), ours)
