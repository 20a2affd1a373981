"""The batched MH SE-step on a tiny topic-LLA: with long chains its paths follow the exact
sequential conditional (χ² over all 3⁴ paths), continuous batching keeps every document's
history, and a generator fixes the draws."""

import itertools

import numpy as np
import pytest
import torch
from scipy import stats

from lla.inference.counts import FixedPhi, topic_word
from lla.inference.mh_step import mh_se_step
from lla.inference.priors import LagDynamicsPrior
from lla.data.synthetic import generate

WORDS = np.array([1, 4, 2, 4])
BETA = 0.3


def _counts(V=6, K=3, seed=0):
    rng = np.random.default_rng(seed)
    n_wk = rng.poisson(3.0, size=(V, K)) * (rng.random((V, K)) < 0.6)
    n_wk[1] = [6, 0, 0]      # a word of one topic: its other topics come from the dense part
    return n_wk.astype(np.int32)


def _path_distribution(theta, phi, words, K=3):
    """q(z_1..z_N) = Π_t π_t(z_t | z_<t), π_t ∝ θ_t φ_{w_t}, over all K^N paths."""
    out = []
    for path in itertools.product(range(K), repeat=len(words)):
        q = 1.0
        for t, w in enumerate(words):
            pi = theta(np.array(path[:t])) * phi[:, w]
            q *= pi[path[t]] / pi.sum()
        out.append(q)
    return np.array(out)


def _paths(tiny, n_wk, reps, mh_steps, head, seed=0, n_slots=512):
    phi = FixedPhi(n_wk, BETA)
    z = mh_se_step(tiny.dynamics.stepper(), phi.proposal(head), np.tile(WORDS, reps),
                   np.full(reps, len(WORDS)), mh_steps=mh_steps,
                   generator=torch.Generator().manual_seed(seed), n_slots=n_slots)
    return z.reshape(reps, len(WORDS)).astype(np.int64)


def _pvalue(paths, exact, K=3):
    codes = paths @ (K ** np.arange(paths.shape[1] - 1, -1, -1))
    counts = np.bincount(codes, minlength=len(exact))
    return stats.chisquare(counts, exact * len(paths)).pvalue


@pytest.mark.parametrize("head", [0, 1, 3])
def test_long_chains_sample_the_exact_sequential_conditional(tiny, head):
    n_wk = _counts()
    exact = _path_distribution(tiny.theta, topic_word(n_wk, BETA), WORDS)
    # 20,000 copies of the document in 512 slots: rows restart documents all the time, so a
    # document proposal reading another document's topics would show
    paths = _paths(tiny, n_wk, 20_000, mh_steps=20, head=head)
    assert _pvalue(paths, exact) > 1e-4


def test_short_chains_are_an_approximation_the_test_can_see(tiny):
    # one proposal pair from a θ-free word proposal (head 0) is visibly off: the χ² test of
    # the long chains above has the power to see a chain that has not converged
    n_wk = _counts()
    exact = _path_distribution(tiny.theta, topic_word(n_wk, BETA), WORDS)
    assert _pvalue(_paths(tiny, n_wk, 20_000, mh_steps=1, head=0), exact) < 1e-6


def test_same_generator_same_draws_stats_and_empty_input(tiny):
    n_wk = _counts()
    a = _paths(tiny, n_wk, 50, mh_steps=2, head=2, seed=3, n_slots=7)
    b = _paths(tiny, n_wk, 50, mh_steps=2, head=2, seed=3, n_slots=7)
    assert np.array_equal(a, b)
    stats_ = {}
    phi = FixedPhi(n_wk, BETA)
    z = mh_se_step(tiny.dynamics.stepper(), phi.proposal(2), np.tile(WORDS, 5), np.full(5, 4),
                   generator=torch.Generator(), stats=stats_)
    assert z.dtype == np.int32 and z.shape == (20,)
    assert 0 < stats_["word_acceptance"] <= 1 and 0 < stats_["doc_acceptance"] <= 1
    assert stats_["proposals"] == 20 * 2 * 2 and stats_["logits_per_token"] >= 1
    empty = mh_se_step(tiny.dynamics.stepper(), phi.proposal(2), np.zeros(0, np.int64),
                       np.zeros(3, np.int64), generator=torch.Generator())
    assert empty.shape == (0,)


def test_needs_a_linear_readout():
    data = generate(n_docs=2, doc_length=5, n_topics=3, vocab_size=8, seed=0)
    with pytest.raises(TypeError, match="read-out"):
        mh_se_step(LagDynamicsPrior(data.dynamics), FixedPhi(_counts(8), BETA).proposal(1),
                   np.asarray(data.corpus.tokens), data.corpus.doc_lengths,
                   generator=torch.Generator())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda_and_samples_the_same_conditional(tiny):
    import copy
    dynamics = copy.deepcopy(tiny.dynamics).to("cuda")
    n_wk = _counts()
    exact = _path_distribution(tiny.theta, topic_word(n_wk, BETA), WORDS)
    reps = 20_000
    z = mh_se_step(dynamics.stepper(), FixedPhi(n_wk, BETA).proposal(1), np.tile(WORDS, reps),
                   np.full(reps, len(WORDS)), mh_steps=20,
                   generator=torch.Generator(device="cuda").manual_seed(0), n_slots=512)
    assert _pvalue(z.reshape(reps, len(WORDS)).astype(np.int64), exact) > 1e-4
