import numpy as np
import pytest
import torch

import lla
from lla.data.synthetic import generate
from lla.errors import InputError, NotFittedError, ParameterError
from lla.evaluation import rank_of_true

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see conftest


@pytest.fixture(scope="module")
def corpus():
    # short documents with strong, persistent topic dynamics: a document's suffix shares its
    # prefix's topics, which a bag-of-words model can exploit
    return generate(n_docs=150, doc_length=30, n_topics=4, vocab_size=60, condition_on="word",
                    strength=20.0, background=0.2, seed=1).corpus


def ae(**kw):
    args = dict(code_size=8, hidden_size=32, n_epochs=60, batch_size=16, learning_rate=3e-3, dropout=0.0,
                patience=8, random_state=0)
    args.update(kw)
    return lla.Autoencoder(**args)


@pytest.fixture(scope="module")
def fitted(corpus):
    return ae().fit(corpus)


def test_beats_unigram(fitted, corpus):
    unigram = lla.Unigram().fit(corpus).perplexity(corpus)
    assert fitted.perplexity(corpus) < 0.95 * unigram
    assert {h["stage"] for h in fitted.history_} == {"validation", "refit"}


def test_scores_come_from_the_prefix_code_by_brute_force(fitted, corpus):
    module = fitted.module_
    V = corpus.n_types
    lp, scores, true = [], [], []
    with torch.no_grad():
        for d in range(len(corpus)):
            counts = np.bincount(np.asarray(corpus.prefix(d)), minlength=V).astype(np.float32)
            bag = torch.as_tensor(counts / counts.sum())[None, :]
            code = torch.tanh(module.code(torch.tanh(module.hidden(bag))))
            logp = torch.log_softmax(module.output(code), dim=-1)[0].numpy()
            for w in np.asarray(corpus.suffix(d)):
                lp.append(logp[w])
                scores.append(logp)
                true.append(w)
    np.testing.assert_allclose(fitted.heldout_log_prob(corpus), lp, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(fitted.heldout_ranks(corpus),
                                  rank_of_true(np.array(scores), np.array(true)))
    np.testing.assert_allclose(fitted.log_word_probs(corpus)[0], scores[0], rtol=1e-6)


def test_suffix_does_not_change_the_score(fitted, corpus):
    # replacing every suffix token changes which entries are read, not the distribution
    docs = [np.asarray(corpus[d]).copy() for d in range(len(corpus))]
    for d, doc in enumerate(docs):
        doc[corpus.prefix_lengths[d]:] = 5
    other = lla.Corpus.from_documents(docs, corpus.vocab)
    np.testing.assert_allclose(fitted.log_word_probs(other), fitted.log_word_probs(corpus))


def test_parameter_count(fitted, corpus):
    V = corpus.n_types
    assert fitted.n_parameters() == {"dense": V * 32 + 32 + 32 * 8 + 8 + 8 * V + V,
                                     "nonzero": 0, "total": V * 32 + 32 + 32 * 8 + 8 + 8 * V + V}


def test_same_seed_same_parameters_and_save_load(corpus, tmp_path):
    state = torch.get_rng_state()
    a = ae(n_epochs=3, dropout=0.5).fit(corpus)
    assert torch.equal(torch.get_rng_state(), state)
    b = ae(n_epochs=3, dropout=0.5).fit(corpus)
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    a.save(tmp_path / "ae")
    loaded = lla.load_model(tmp_path / "ae")
    assert isinstance(loaded, lla.Autoencoder)
    assert loaded.perplexity(corpus) == a.perplexity(corpus)
    np.testing.assert_array_equal(loaded.heldout_ranks(corpus), a.heldout_ranks(corpus))


def test_errors(corpus):
    with pytest.raises(NotFittedError):
        ae().heldout_log_prob(corpus)
    with pytest.raises(ParameterError):
        ae(code_size=0).fit(corpus)
    model = ae(n_epochs=1).fit(corpus)
    with pytest.raises(InputError):
        model.heldout_log_prob(lla.Corpus.from_documents([np.arange(10)], 10))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_and_score(corpus):
    model = ae(n_epochs=3, device="cuda").fit(corpus)
    assert model.module_.device.type == "cuda"
    assert np.isfinite(model.perplexity(corpus))
    assert model.heldout_ranks(corpus).min() >= 1
