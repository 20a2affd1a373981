"""The MH kernel of topic-LLA's SE-step: its tables and draws equal the twin's on fixed random
numbers, and the chain's stationary distribution is the exact conditional π ∝ θ·φ_w (χ² test,
shown to reject a chain with a wrong acceptance ratio)."""

import numpy as np
import pytest
from scipy import stats

from lla._kernels import alias, se_mh, se_mh_ref


def _counts(rng, V, K, density=0.6):
    n_wk = rng.poisson(2.0, size=(V, K)) * (rng.random((V, K)) < density)
    return n_wk.astype(np.int32)


def test_dot_is_numpys_dot():
    rng = np.random.default_rng(0)
    for H in (1, 7, 8, 128, 130):
        w_p = rng.normal(size=(5, H)).astype(np.float32)
        h = rng.normal(size=(3, H)).astype(np.float32)
        for k in range(5):
            for r in range(3):
                exact = float(np.dot(w_p[k].astype(np.float64), h[r].astype(np.float64)))
                assert abs(se_mh.dot(w_p, k, h, r) - exact) <= 1e-5 * (1 + abs(exact))


@pytest.mark.parametrize("head", [0, 2, 100])
def test_tables_equal_the_twins(head):
    n_wk = _counts(np.random.default_rng(1), 9, 6)
    n_wk[4] = 0  # a word with no sparse topics
    tab = se_mh.build_proposal(n_wk, 0.05, head)
    ref = se_mh_ref.Proposal(n_wk, 0.05, head)
    assert np.array_equal(tab.inv_nk, ref.inv_nk) and tab.dense_mass == ref.dense_mass
    assert np.array_equal(tab.dense_prob, ref.dense[0])
    assert np.array_equal(tab.dense_alias, ref.dense[1])
    for w in range(9):
        a, e = tab.word_ptr[w], tab.word_ptr[w + 1]
        assert list(tab.word_topic[a:e]) == ref.topics[w]
        assert np.all(np.diff(n_wk[w, tab.word_topic[a:e]]) <= 0)  # most frequent first
        assert tab.head_mass[w] == ref.head_mass[w] and tab.rest_mass[w] == ref.rest_mass[w]
        J_w = min(e - a, tab.head)
        if e - a > J_w:
            rest = alias.implied_distribution(tab.rest_prob[a + J_w:e], tab.rest_alias[a + J_w:e])
            weights = tab.word_weight[a + J_w:e]
            assert np.allclose(rest, weights / weights.sum())
    # φ_w = head + rest + dense, as the three parts of the word proposal
    phi = (n_wk + 0.05) * tab.inv_nk
    assert np.allclose(phi.sum(axis=1), tab.head_mass + tab.rest_mass + tab.dense_mass)


def _rows(rng, R, K, V, H, n_hist=6):
    """R rows of random contexts: s_t, words, positions (some 0: new documents), idle rows."""
    h = rng.normal(size=(R, H)).astype(np.float32)
    words = rng.integers(0, V, R)
    position = rng.integers(0, n_hist, R)
    token_index = np.arange(R) * n_hist + position
    token_index[::7] = -1
    z_out = rng.integers(0, K, R * n_hist)
    n_dk = np.zeros((R, K), np.int32)
    for r in range(R):
        if token_index[r] >= 0:
            n_dk[r] = np.bincount(z_out[token_index[r] - position[r]:token_index[r]],
                                  minlength=K)
    return h, words, token_index, position, z_out, n_dk


@pytest.mark.parametrize("head", [0, 2, 100])
def test_kernel_equals_twin_on_the_same_random_numbers(head):
    rng = np.random.default_rng(head)
    K, V, H, R = 7, 12, 13, 80
    n_wk = _counts(rng, V, K)
    n_wk[3] = 0
    w_p = rng.normal(size=(K, H)).astype(np.float32)
    b_p = rng.normal(size=K).astype(np.float32)
    h, words, token_index, position, z_out, n_dk = _rows(rng, R, K, V, H)
    state = rng.integers(0, 2 ** 63, R).astype(np.uint64)
    tab = se_mh.build_proposal(n_wk, 0.1, head)
    z_out_ref, state_ref = z_out.copy(), state.copy()
    z, counts = np.zeros(R, np.int64), np.zeros(5, np.int64)
    se_mh.mh_rows(h, w_p, b_p, words, token_index, position, z_out, n_dk, tab, 3, 0.5, state,
                  z, counts)
    z_ref, counts_ref = se_mh_ref.mh_rows(h, w_p, b_p, words, token_index, position, z_out_ref,
                                          se_mh_ref.Proposal(n_wk, 0.1, head), 3, 0.5,
                                          state_ref)
    assert np.array_equal(z, z_ref) and list(counts[:4]) == counts_ref
    assert np.array_equal(state, state_ref) and np.array_equal(z_out, z_out_ref)
    active = token_index >= 0
    assert np.all(z[~active] == 0) and np.array_equal(z_out[token_index[active]], z[active])
    # the document counts now include the drawn topic
    for r in np.flatnonzero(active):
        assert n_dk[r].sum() == position[r] + 1 and n_dk[r, z[r]] >= 1


class _Context:
    """One token whose proposals are far from its conditional: θ_t favours topics where the
    word is rare, the document's history holds other topics, the head is one topic."""

    K, V, H, HEAD, BETA, DOC_ALPHA, T = 6, 4, 8, 1, 0.5, 0.5, 10

    def __init__(self):
        rng = np.random.default_rng(5)
        self.n_wk = np.array([[30, 10, 3, 0, 0, 1], [0, 5, 5, 5, 2, 0],
                              [4, 0, 0, 9, 1, 1], [2, 2, 0, 0, 8, 3]], dtype=np.int32)
        self.w_p = rng.normal(size=(self.K, self.H)).astype(np.float32)
        self.b_p = np.array([0.0, -0.5, -1.0, 3.5, 2.5, 0.5], np.float32)
        self.h = (0.3 * rng.normal(size=(1, self.H))).astype(np.float32)
        self.history = np.array([1, 2, 1, 1, 2, 1, 0, 1, 2, 1])
        logits = self.w_p.astype(float) @ self.h[0].astype(float) + self.b_p
        phi = (self.n_wk[0] + self.BETA) / (self.n_wk.sum(axis=0) + self.V * self.BETA)
        pi = np.exp(logits - logits.max()) * phi
        self.pi = pi / pi.sum()
        self.q_word = phi / phi.sum()

    def kernel_chains(self, n, mh_steps, seed=0):
        K, T = self.K, self.T
        h = np.repeat(self.h, n, axis=0)
        token_index = np.arange(n) * (T + 1) + T
        z_out = np.tile(np.append(self.history, 0), n)
        n_dk = np.tile(np.bincount(self.history, minlength=K).astype(np.int32), (n, 1))
        state = np.random.default_rng(seed).integers(0, 2 ** 63, n).astype(np.uint64)
        z = np.zeros(n, np.int64)
        se_mh.mh_rows(h, self.w_p, self.b_p, np.zeros(n, np.int64), token_index,
                      np.full(n, T), z_out, n_dk,
                      se_mh.build_proposal(self.n_wk, self.BETA, self.HEAD), mh_steps,
                      self.DOC_ALPHA, state, z, np.zeros(5, np.int64))
        return z

    def twin_chains(self, n, mh_steps, seed=0):
        proposal = se_mh_ref.Proposal(self.n_wk, self.BETA, self.HEAD)
        logit = se_mh_ref.logit_fn(self.w_p, self.b_p, self.h, 0)
        state = np.random.default_rng(seed).integers(0, 2 ** 63, n).astype(np.uint64)
        return np.array([se_mh_ref.mh_token(logit, proposal, 0, list(self.history), mh_steps,
                                            self.DOC_ALPHA, se_mh_ref.SplitMix64(int(s)))
                         for s in state])


def _pvalue(z, p):
    counts = np.bincount(z, minlength=len(p))
    return stats.chisquare(counts, p * len(z)).pvalue


def test_chain_stationary_distribution_is_the_exact_conditional():
    ctx = _Context()
    # the proposals alone are far from π: the chain has work to do
    assert 0.5 * np.abs(ctx.q_word - ctx.pi).sum() > 0.3
    # 20,000 independent chains of 30 (document, word) steps each
    z = ctx.kernel_chains(20_000, 30)
    assert _pvalue(z, ctx.pi) > 1e-4
    # a single step is not enough here (so the 30 steps above are what makes it pass)
    assert _pvalue(ctx.kernel_chains(20_000, 1), ctx.pi) < 1e-6


def test_the_chi2_test_rejects_a_wrong_acceptance_ratio(monkeypatch):
    """Power: the twin (which draws what the kernel draws, test above) passes the same χ² test
    with the right ratio and fails it when the proposal densities are left out of the
    acceptance ratio (min(1, π(k')/π(k)), the commonest MH bug), at 4,000 chains."""
    ctx = _Context()
    n = 4000
    assert _pvalue(ctx.twin_chains(n, 30), ctx.pi) > 1e-4
    monkeypatch.setattr(se_mh_ref, "acceptance_ratio",
                        lambda pi_prop, pi_cur, q_prop, q_cur: pi_prop / pi_cur)
    assert _pvalue(ctx.twin_chains(n, 30), ctx.pi) < 1e-10


def test_head_covering_every_sparse_topic_is_nearly_exact_in_one_step():
    """With the whole sparse part weighted by θ (the paper's proposal) and a small β the word
    proposal is almost π itself: one step is already within a few percent in total
    variation."""
    ctx = _Context()
    ctx.HEAD, ctx.BETA = 6, 0.01
    phi = (ctx.n_wk[0] + ctx.BETA) / (ctx.n_wk.sum(axis=0) + ctx.V * ctx.BETA)
    logits = ctx.w_p.astype(float) @ ctx.h[0].astype(float) + ctx.b_p
    pi = np.exp(logits - logits.max()) * phi
    pi /= pi.sum()
    z = ctx.kernel_chains(20_000, 1)
    emp = np.bincount(z, minlength=ctx.K) / len(z)
    assert 0.5 * np.abs(emp - pi).sum() < 0.03
