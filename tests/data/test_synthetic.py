import numpy as np
import pytest

from lla import ParameterError
from lla.data.synthetic import generate


def test_same_seed_same_corpus_different_seed_different():
    a = generate(n_docs=20, doc_length=(10, 40), seed=3)
    b = generate(n_docs=20, doc_length=(10, 40), seed=3)
    c = generate(n_docs=20, doc_length=(10, 40), seed=4)
    assert np.array_equal(a.corpus.tokens, b.corpus.tokens)
    assert np.array_equal(a.corpus.offsets, b.corpus.offsets)
    assert all(np.array_equal(x, y) for x, y in zip(a.z, b.z))
    assert np.array_equal(a.topic_word, b.topic_word)
    assert not np.array_equal(a.corpus.tokens[:100], c.corpus.tokens[:100])


def test_shapes_and_truth():
    d = generate(n_docs=10, doc_length=30, n_topics=4, vocab_size=50, seed=0)
    assert len(d.corpus) == 10 and d.corpus.n_tokens == 300
    assert d.topic_word.shape == (4, 50)
    np.testing.assert_allclose(d.topic_word.sum(axis=1), 1)
    assert (d.topic_word[:, 0] == 0).all() and (d.corpus.tokens > 0).all()  # <unk> never emitted
    assert all(len(z) == 30 for z in d.z)
    assert (d.dynamics.successor != np.arange(4)).all()


def test_empirical_topic_frequencies_match_true_dynamics():
    d = generate(n_docs=400, doc_length=60, n_topics=5, vocab_size=100, seed=1)
    # (a) every z_t is a draw from θ_t recomputed from the history: residuals average out
    z = np.concatenate(d.z)
    theta = np.concatenate([d.dynamics.theta_sequence(zz) for zz in d.z])
    onehot = np.eye(5)[z]
    se = np.sqrt((theta * (1 - theta)).sum(axis=0)) / len(z)
    assert np.all(np.abs((onehot - theta).mean(axis=0)) < 4 * se + 1e-12)
    # (b) the memory is longer than one step: the successor of a topic appears 2..5 steps
    # later far more often than chance, and at lag 1 only at the baseline rate
    def rate(lag):
        return np.mean(np.concatenate([zz[lag:] == d.dynamics.successor[zz[:-lag]] for zz in d.z]))
    # exact rates under the chain: base 1/K share + history share of lags 2..5
    for lag in (2, 3, 4, 5):
        assert rate(lag) > 0.3
    assert rate(1) < 0.27 and rate(7) < 0.27
    # (c) the words: each token drawn from φ of its topic
    w = d.corpus.tokens
    for k in range(5):
        emp = np.bincount(w[z == k], minlength=100) / (z == k).sum()
        assert 0.5 * np.abs(emp - d.topic_word[k]).sum() < 0.12  # total variation


def test_theta_matches_hand_computation():
    d = generate(n_docs=1, doc_length=5, n_topics=3, vocab_size=10, min_lag=2, max_lag=3,
                 strength=2.0, background=1.0, seed=0)
    s = d.dynamics.successor
    theta = d.dynamics.theta([0, 1, 2])  # history c1..c3: lags 1..3 are topics 2, 1, 0
    expect = np.full(3, 1 / 3)
    expect[s[1]] += 1.0   # lag 2
    expect[s[0]] += 1.0   # lag 3
    np.testing.assert_allclose(theta, expect / expect.sum())
    np.testing.assert_allclose(d.dynamics.theta([]), np.full(3, 1 / 3))


def test_word_conditioned_exact_scoring_beats_unigram():
    from lla import Unigram
    d = generate(n_docs=100, doc_length=80, condition_on="word", strength=8.0, seed=2)
    true_ppl = np.exp(-d.exact_heldout_log_prob().mean())
    assert true_ppl < Unigram().fit(d.corpus).perplexity(d.corpus)
    with pytest.raises(ParameterError):
        generate(n_docs=2, seed=0).exact_heldout_log_prob()


@pytest.mark.parametrize("kwargs", [{"n_topics": 0}, {"vocab_size": 1}, {"min_lag": 3, "max_lag": 2},
                                    {"beta": 0}, {"condition_on": "char"}])
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        generate(**kwargs)
