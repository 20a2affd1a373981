"""predict_next and heldout_ranks read the same predictive (lla.prediction): the rank of the true
next item in a prediction from a raw history equals heldout_ranks at that position, for every
model; predictions say what they read and why."""

import numpy as np
import pytest

import lla
from lla.data.synthetic import generate

TINY_LLA = dict(embedding_size=6, hidden_size=8, init_lda_iter=10, init_lstm_epochs=2,
                lstm_epochs_per_iter=1, n_threads=1, random_state=0, show_progress=False)


@pytest.fixture(scope="module")
def corpus():
    data = generate(n_docs=40, doc_length=(20, 40), n_topics=3, vocab_size=25, seed=1)
    names = [None] + [f"Item number {i}" for i in range(1, 25)]
    return lla.Corpus.from_documents(list(data.corpus), 25, item_names=names)


@pytest.fixture(scope="module")
def models(corpus):
    return {
        "unigram": lla.Unigram().fit(corpus),
        "lda": lla.LDA(3, n_iter=20, n_threads=1, random_state=0,
                       show_progress=False).fit(corpus),
        "ddlda": lla.DDLDA(3, n_iter=10, random_state=0, n_particles=4).fit(corpus),
        "topic-lla": lla.TopicLLA(3, n_iter=1, n_particles=4, **TINY_LLA).fit(corpus),
        "word-lla": lla.WordLLA(3, n_iter=1, **TINY_LLA).fit(corpus),
        "word-lstm": lla.WordLSTM(6, 8, n_epochs=1, validation=False, n_threads=1,
                                  random_state=0).fit(corpus),
        "autoencoder": lla.Autoencoder(4, 8, n_epochs=2, validation=False, n_threads=1,
                                       random_state=0).fit(corpus),
    }


@pytest.mark.parametrize("name", ["unigram", "lda", "ddlda", "topic-lla", "word-lla",
                                  "word-lstm", "autoencoder"])
def test_a_prediction_ranks_the_next_item_as_heldout_ranks_does(models, corpus, name):
    """One document at a time (so that the particle filters see exactly the same tokens in the
    same row with the same random stream): the true first held-out item's rank under
    predict_next(prefix) equals heldout_ranks' rank of it."""
    model = models[name]
    V = corpus.n_types
    checked = 0
    for d in range(8):
        doc = corpus.subset([d])
        true = int(doc.suffix(0)[0])
        if true == 0:               # predictions never propose <unk>
            continue
        expected = model.heldout_ranks(doc)[0]
        p = model.predict_next([np.asarray(doc.prefix(0))], n_items=V - 1)[0]
        probs = dict(p.items)
        mine = 1 + sum(q > probs[str(true) if str(true) in probs else
                                 corpus.vocab.types[true]] for q in probs.values())
        assert mine == expected, (name, d)
        checked += 1
    assert checked >= 5


def test_predictions_explain_themselves(models, corpus):
    history = [corpus.vocab.types[i] for i in corpus.prefix(0)[:12]] + ["never-seen"]
    for name, model in models.items():
        p = model.predict_next([history, []], n_items=4, n_topics=2)
        assert [len(q.items) for q in p] == [4, 4] and p[0].unknown == ["never-seen"]
        assert p[0].history[-1] == "<unk>" and all(i != "<unk>" for i, _ in p[0].items)
        assert p[0].label(p[0].items[0][0]).startswith("Item number")
        if model._has_topics():
            assert len(p[0].topics) == 2 and sum(q for _, q in p[0].topics) <= 1 + 1e-9
            assert p[0].topic_words and p[0].history_topics
            if name != "lda":
                assert len(p[0].path) == len(history)
            else:
                assert p[0].path is None
        else:
            assert p[0].topics is None and p[0].path is None


def test_exclude_history_never_proposes_what_the_user_has(models, corpus):
    history = [corpus.vocab.types[i] for i in corpus.prefix(3)]
    for model in models.values():
        items = {i for i, _ in model.predict_next([history], n_items=5,
                                                  exclude_history=True)[0].items}
        assert not items & set(history)


def test_a_model_without_topics_has_none_to_show(models):
    with pytest.raises(lla.ParameterError, match="has no topics"):
        models["word-lstm"].topic_ids()


def test_transition_matrices_and_embeddings(models):
    for name in ("lda", "ddlda", "topic-lla", "word-lla"):
        P = models[name].transition_matrix()
        rows = P[~np.isnan(P).any(axis=1)]
        assert P.shape == (3, 3) and np.allclose(rows.sum(axis=1), 1.0)
        assert models[name].topic_embedding().shape[0] == 3
    L = models["topic-lla"].transition_matrix("lstm")
    assert np.allclose(L.sum(axis=1), 1.0)
    with pytest.raises(lla.ParameterError):
        models["lda"].transition_matrix("lstm")


def test_relevance_words_use_item_names_and_skip_unk(models):
    words = models["lda"].topic_words(5, lam=0.6)
    assert all(w.startswith("Item number") for row in words.labels for w in row)
    assert 0 not in words.ids
