"""lla.LDA: planted topics, likelihood, the perplexity protocol, persistence, determinism."""

import numpy as np
import pytest

import lla
from lla import LDA, Corpus, InputError, NotFittedError, ParameterError, load_model


def _planted(seed=0, K=4, V=40, D=60, length=(60, 100), alpha=0.1):
    """LDA data with K topics on disjoint blocks of V/K words (id 0 = <unk> unused)."""
    rng = np.random.default_rng(seed)
    block = (V - 1) // K
    phi = np.zeros((K, V))
    for k in range(K):
        phi[k, 1 + k * block:1 + (k + 1) * block] = 1.0 / block
    docs, thetas = [], []
    for _ in range(D):
        theta = rng.dirichlet(np.full(K, alpha))
        n = rng.integers(*length)
        z = rng.choice(K, size=n, p=theta)
        docs.append(np.array([rng.choice(V, p=phi[k]) for k in z], np.int32))
        thetas.append(theta)
    return Corpus.from_documents(docs, V), phi, np.array(thetas)


@pytest.fixture(scope="module")
def planted():
    return _planted()


@pytest.fixture(scope="module")
def fitted(planted):
    corpus, _, _ = planted
    return LDA(4, n_iter=60, n_average=10, random_state=3, n_threads=1).fit(corpus)


def test_planted_topics_are_recovered(planted, fitted):
    _, phi, _ = planted
    est = fitted.topic_word_
    assert est.shape == phi.shape
    np.testing.assert_allclose(est.sum(axis=1), 1.0)
    # match every true topic to its best estimated topic; the matching must be a permutation
    overlap = phi @ est.T                      # (K_true, K_est)
    best = overlap.argmax(axis=1)
    assert sorted(best) == [0, 1, 2, 3]
    assert overlap[np.arange(4), best].min() > 0.9 / ((phi > 0).sum(axis=1)[0])


@pytest.mark.parametrize("sampler", ["exact", "mh"])
def test_training_log_likelihood_rises(planted, sampler):
    corpus, _, _ = planted
    lls = []
    LDA(4, n_iter=30, sampler=sampler, evaluate_every=1, random_state=0, n_threads=1).fit(
        corpus, callback=lambda m, s, st: lls.append(st["log_likelihood"]))
    assert len(lls) == 30
    assert lls[-1] > lls[0] + 0.1
    assert np.mean(lls[-5:]) > np.mean(lls[:5])


def test_counts_match_assignments_after_every_sweep(planted):
    corpus, _, _ = planted

    def check(model, sweep, stats):
        z = model.z_
        ptr = np.concatenate([[0], np.cumsum(model.prefix_lengths_)])
        words = np.concatenate([np.asarray(corpus.prefix(d)) for d in range(len(corpus))])
        n_wk = np.zeros_like(model.n_wk_)
        np.add.at(n_wk, (words, z), 1)
        np.testing.assert_array_equal(n_wk, model.n_wk_)
        np.testing.assert_array_equal(model.n_k_, n_wk.sum(axis=0))
        for d in (0, len(corpus) - 1):
            np.testing.assert_array_equal(model.n_dk_[d], np.bincount(z[ptr[d]:ptr[d + 1]],
                                                                      minlength=4))
        seen.append(sweep)

    seen = []
    LDA(4, n_iter=3, sampler="mh", n_threads=2, random_state=1).fit(corpus, callback=check)
    assert seen == [1, 2, 3]


def test_fitted_state_shapes_and_assignments(planted, fitted):
    corpus, _, _ = planted
    D, V, N = len(corpus), corpus.n_types, corpus.n_prefix_tokens
    assert fitted.n_wk_.shape == (V, 4) and fitted.n_wk_.dtype == np.int32
    assert fitted.n_dk_.shape == (D, 4) and fitted.z_.shape == (N,) and fitted.z_.dtype == np.int32
    assert fitted.doc_topic_.shape == (D, 4)
    np.testing.assert_allclose(fitted.doc_topic_.sum(axis=1), 1.0)
    assert fitted.n_wk_.sum() == N
    np.testing.assert_array_equal(fitted.n_dk_.sum(axis=1), corpus.prefix_lengths)
    np.testing.assert_array_equal(np.bincount(fitted.assignments_(5), minlength=4),
                                  fitted.n_dk_[5])
    assert fitted.n_iter_done_ == 60


def test_perplexity_agrees_with_independent_numpy_computation(planted, fitted):
    corpus, _, _ = planted
    theta, phi = fitted.doc_topic_, fitted.topic_word_
    total, count = 0.0, 0
    for d in range(len(corpus)):
        w = np.asarray(corpus.suffix(d))
        total += np.log(theta[d] @ phi[:, w]).sum()
        count += len(w)
    assert fitted.perplexity(corpus) == pytest.approx(np.exp(-total / count), rel=1e-10)
    assert fitted.log_likelihood(corpus) == pytest.approx(total, rel=1e-10)
    # and LDA beats the unigram floor on topical data
    assert fitted.perplexity(corpus) < lla.Unigram().fit(corpus).perplexity(corpus)


def test_ranks_agree_with_brute_force_over_the_vocabulary(planted, fitted):
    from lla.evaluation import rank_of_true
    corpus, _, _ = planted
    theta, phi = fitted.doc_topic_, fitted.topic_word_
    brute = np.concatenate([rank_of_true(np.tile(theta[d] @ phi, (len(corpus.suffix(d)), 1)),
                                         np.asarray(corpus.suffix(d)))
                            for d in range(len(corpus))])
    np.testing.assert_array_equal(fitted.heldout_ranks(corpus), brute)


def test_other_corpus_is_folded_in_and_training_corpus_is_not(planted, fitted):
    corpus, _, _ = planted
    fitted_ppl = fitted.perplexity(corpus)
    folded = fitted.perplexity(corpus, fold_in=True)
    other = corpus.subset(range(10))            # a different corpus -> fold-in automatically
    assert fitted.perplexity(other) == pytest.approx(
        fitted.perplexity(other, fold_in=True), rel=1e-12)
    assert folded == pytest.approx(fitted_ppl, rel=0.1)
    with pytest.raises(InputError):
        fitted.perplexity(other, fold_in=False)


def test_transform_of_training_documents_is_close_to_fitted_theta(planted, fitted):
    corpus, _, _ = planted
    theta = fitted.transform(corpus)
    assert theta.shape == fitted.doc_topic_.shape
    assert np.abs(theta - fitted.doc_topic_).sum(axis=1).mean() < 0.15
    docs = [np.asarray(corpus.prefix(d)) for d in range(3)]
    np.testing.assert_array_equal(fitted.transform(docs), theta[:3])   # deterministic
    with pytest.raises(InputError):
        fitted.transform([np.array([0, 999])])


def test_save_load_same_perplexity_and_state(tmp_path, planted, fitted):
    corpus, _, _ = planted
    fitted.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, LDA) and loaded.get_params() == fitted.get_params()
    assert loaded.perplexity(corpus) == fitted.perplexity(corpus)
    other = corpus.subset(range(5))
    assert loaded.perplexity(other) == fitted.perplexity(other)
    np.testing.assert_array_equal(loaded.z_, fitted.z_)
    np.testing.assert_array_equal(loaded.n_dk_, fitted.n_dk_)
    assert loaded.top_words(0, 5) == fitted.top_words(0, 5)
    assert loaded.n_parameters() == fitted.n_parameters()


def test_same_seed_same_model_and_thread_counts_run(planted):
    corpus, _, _ = planted
    runs = {}
    for T in (1, 2, 3):
        a = LDA(4, n_iter=5, sampler="mh", n_threads=T, random_state=7).fit(corpus)
        b = LDA(4, n_iter=5, sampler="mh", n_threads=T, random_state=7).fit(corpus)
        np.testing.assert_array_equal(a.z_, b.z_)
        np.testing.assert_array_equal(a.topic_word_, b.topic_word_)
        runs[T] = a.z_
    c = LDA(4, n_iter=5, sampler="mh", n_threads=1, random_state=8).fit(corpus)
    assert not np.array_equal(c.z_, runs[1])


def test_n_parameters_and_top_words(planted, fitted):
    corpus, _, _ = planted
    p = fitted.n_parameters()
    assert p["dense"] == 0 and p["topic_word_dense"] == 4 * corpus.n_types
    # nnz of the counts φ is made from (averaged over 10 sweeps): the entries of φ above their
    # row's floor β / (n̄_k + Vβ), at least the last sweep's nnz(n_wk)
    floor = fitted.topic_word_.min(axis=1, keepdims=True)
    assert p["nonzero"] == np.count_nonzero(fitted.topic_word_ > floor * (1 + 1e-9))
    assert p["nonzero"] >= np.count_nonzero(fitted.n_wk_) and p["total"] == p["nonzero"]
    last = LDA(4, n_iter=60, n_average=0, random_state=3, n_threads=1).fit(corpus)
    assert last.n_parameters()["nonzero"] == np.count_nonzero(last.n_wk_)
    words = fitted.top_words(1, 3)
    assert len(words) == 3 and all(isinstance(w, str) for w in words)
    with pytest.raises(ParameterError):
        fitted.top_words(4)


def test_stop_keeps_last_finished_sweep(planted):
    corpus, _, _ = planted

    def interrupt(model, sweep, stats):
        if sweep == 3:
            raise KeyboardInterrupt

    m = LDA(4, n_iter=50, random_state=0, n_threads=1).fit(corpus, callback=interrupt)
    assert m.n_iter_done_ == 3
    assert np.isfinite(m.perplexity(corpus))
    m2 = LDA(4, n_iter=50, random_state=0, n_threads=1).fit(
        corpus, callback=lambda m, s, st: s < 2)
    assert m2.n_iter_done_ == 2


@pytest.mark.parametrize("kwargs, match", [
    ({"n_topics": 0}, "n_topics"), ({"n_topics": 4, "alpha": -1.0}, "alpha"),
    ({"n_topics": 4, "beta": 0}, "beta"), ({"n_topics": 4, "n_iter": 0}, "n_iter"),
    ({"n_topics": 4, "sampler": "fast"}, "sampler"), ({"n_topics": 4, "n_threads": 0}, "n_threads"),
    ({"n_topics": 4, "random_state": -3}, "random_state"),
])
def test_bad_hyper_parameters_get_one_line_errors(planted, kwargs, match):
    corpus, _, _ = planted
    with pytest.raises(ParameterError, match=match) as e:
        LDA(**kwargs).fit(corpus)
    assert "\n" not in str(e.value)


def test_corpus_without_training_tokens_and_unfitted_model():
    empty = Corpus.from_documents([[1], [2]], 5)     # floor(0.6 * 1) = 0 prefix tokens
    with pytest.raises(InputError, match="no training tokens"):
        LDA(3).fit(empty)
    with pytest.raises(NotFittedError):
        LDA(3).perplexity(empty)


def test_vocabulary_mismatch_is_an_input_error(fitted):
    other = Corpus.from_documents([np.arange(1, 10)] * 3, 10)
    with pytest.raises(InputError, match="word types"):
        fitted.perplexity(other)
