import numpy as np
import pytest

from lla.data.store import Corpus
from lla.errors import ParameterError
from lla.interpret.coherence import corpus_npmi, npmi_coherence, topic_diversity


def _store(docs):
    lengths = np.array([len(d) for d in docs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = np.concatenate([np.asarray(d, dtype=np.int32) for d in docs]) if docs \
        else np.zeros(0, np.int32)
    return tokens, offsets


def test_npmi_by_hand():
    # documents shorter than W are one window each: 4 windows
    docs = [[0, 1], [0, 1], [0, 2], [3]]
    tokens, offsets = _store(docs)
    coh = npmi_coherence([[0, 1, 2]], tokens, offsets, window=10)
    N = 4
    p = {0: 3 / N, 1: 2 / N, 2: 1 / N}
    pj = {(0, 1): 2 / N, (0, 2): 1 / N, (1, 2): 0.0}
    eps = 1e-12

    def npmi(i, j):
        return np.log((pj[i, j] + eps) / (p[i] * p[j])) / -np.log(pj[i, j] + eps)

    expected = np.mean([npmi(0, 1), npmi(0, 2), npmi(1, 2)])
    assert coh.n_windows == 4 and coh.window == 10
    np.testing.assert_allclose(coh.npmi, [expected], rtol=1e-12)
    np.testing.assert_allclose(coh.pair_npmi[0, 0, 1], npmi(0, 1))
    np.testing.assert_allclose(coh.pair_npmi[0, 2, 1], npmi(1, 2))
    assert np.isnan(coh.pair_npmi[0, 1, 1])
    assert coh.mean == pytest.approx(expected)


def test_word_absent_from_reference_scores_minus_one():
    tokens, offsets = _store([[0, 1, 0, 1], [0, 1]])
    coh = npmi_coherence([[0, 1, 5], [0, 1, 2]], tokens, offsets, window=2)
    assert coh.n_missing.tolist() == [1, 1]
    assert coh.pair_npmi[0, 0, 2] == -1.0 and coh.pair_npmi[0, 2, 1] == -1.0
    assert np.all(np.isfinite(coh.npmi))


def test_planted_topics_are_more_coherent_than_random_ones():
    # documents drawn from 4 disjoint word groups: a group's words co-occur, others do not
    rng = np.random.default_rng(3)
    V, groups = 80, 4
    docs = [rng.integers(0, 20, size=60) + 20 * rng.integers(groups) for _ in range(200)]
    tokens, offsets = _store(docs)
    planted = np.array([rng.choice(20, 10, replace=False) + 20 * g for g in range(groups)])
    mixed = np.array([rng.choice(V, 10, replace=False) for _ in range(groups)])
    good = npmi_coherence(planted, tokens, offsets)
    bad = npmi_coherence(mixed, tokens, offsets)
    assert good.npmi.min() > 0.1 and bad.npmi.max() < good.npmi.min()


def test_corpus_npmi_uses_the_prefixes_by_default():
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 30, size=n) for n in rng.integers(0, 50, size=40)]
    corpus = Corpus.from_documents(docs, 30)
    top = np.array([rng.choice(30, 10, replace=False) for _ in range(3)])
    prefix = corpus_npmi(top, corpus)
    prefixes = [np.asarray(corpus.prefix(d)) for d in range(len(corpus))]
    np.testing.assert_array_equal(prefix.npmi, npmi_coherence(top, *_store(prefixes)).npmi)
    whole = corpus_npmi(top, corpus, part="all")
    np.testing.assert_array_equal(whole.npmi, npmi_coherence(top, *_store(docs)).npmi)
    assert whole.n_windows > prefix.n_windows
    with pytest.raises(ParameterError, match="part"):
        corpus_npmi(top, corpus, part="suffix")


def test_topic_diversity():
    assert topic_diversity(np.arange(50).reshape(2, 25)) == 1.0
    assert topic_diversity(np.tile(np.arange(25), (4, 1))) == 0.25
    assert topic_diversity([[0, 1], [1, 2]]) == 0.75


@pytest.mark.parametrize("kwargs, message", [
    (dict(top_ids=[[0, 0, 1]]), "repeats"),
    (dict(top_ids=[[0]]), "n ≥ 2"),
    (dict(top_ids=[0, 1]), "2-d"),
    (dict(top_ids=[[0.5, 1.0]]), "integers"),
    (dict(top_ids=[[-1, 1]]), "non-negative"),
    (dict(offsets=np.array([0, 2, 9])), "offsets"),
    (dict(lengths=np.array([3, 9])), "lengths"),
    (dict(window=0), "window"),
    (dict(tokens=np.array([0, 1, -2, 1, 0, 1], np.int32)), "non-negative"),
])
def test_bad_input_one_line(kwargs, message):
    args = dict(top_ids=[[0, 1]], tokens=np.array([0, 1, 2, 1, 0, 1], np.int32),
                offsets=np.array([0, 3, 6]), lengths=None, window=10)
    args.update(kwargs)
    with pytest.raises(ParameterError, match=message) as info:
        npmi_coherence(args.pop("top_ids"), args.pop("tokens"), args.pop("offsets"),
                       args.pop("lengths"), **args)
    assert "\n" not in str(info.value)


def test_empty_reference_is_an_error():
    with pytest.raises(ParameterError, match="no windows"):
        npmi_coherence([[0, 1]], np.zeros(0, np.int32), np.array([0, 0]))


# -- agreement with gensim ---------------------------------------------------------------------

def _repeat_free_corpus(rng, n_docs, V, n_groups):
    """Documents of distinct words (sampled without replacement), each leaning to one word
    group, so that no word repeats inside any window: there gensim 4.4's incremental window
    update is exact (see lla.interpret.coherence) and the two must agree."""
    size = V // n_groups
    docs = []
    for _ in range(n_docs):
        g = rng.integers(n_groups)
        weights = np.full(V, 0.2)
        weights[g * size:(g + 1) * size] = 5.0
        length = int(rng.integers(1, 35))
        docs.append(rng.choice(V, size=length, replace=False, p=weights / weights.sum()))
    return docs


@pytest.mark.parametrize("seed, window", [(0, 10), (1, 10), (2, 4), (3, 25)])
def test_agrees_with_gensim_c_npmi(seed, window):
    pytest.importorskip("gensim", reason="gensim (the 'test' extra) is not installed")
    from gensim.corpora import Dictionary
    from gensim.models import CoherenceModel

    rng = np.random.default_rng(seed)
    V, n_groups = 60, 4
    docs = _repeat_free_corpus(rng, 150, V, n_groups)
    size = V // n_groups
    topics = [rng.choice(np.arange(g * size, (g + 1) * size), 10, replace=False)
              for g in range(n_groups)]
    topics.append(rng.choice(V, 10, replace=False))       # an incoherent one
    present = np.unique(np.concatenate(docs))
    topics = [t[np.isin(t, present)][:10] for t in topics]  # gensim cannot score unseen words
    topics = [t for t in topics if t.size == 10]
    assert len(topics) >= 4

    texts = [[f"w{i}" for i in d] for d in docs]
    dictionary = Dictionary(texts)
    reference = CoherenceModel(topics=[[f"w{i}" for i in t] for t in topics], texts=texts,
                               dictionary=dictionary, coherence="c_npmi", window_size=window,
                               topn=10, processes=1).get_coherence_per_topic()
    ours = npmi_coherence(np.array(topics), *_store(docs), window=window)
    np.testing.assert_allclose(ours.npmi, reference, atol=1e-6, rtol=0)
    assert np.ptp(ours.npmi) > 0.1                          # the test can tell topics apart
