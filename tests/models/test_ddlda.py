import numpy as np
import pytest

from lla import DDLDA, ParameterError, Unigram, load_model
from lla.data.synthetic import generate
from lla.inference.priors import DDPrior, decay_weights


def _sample_ddlda_corpus(n_docs=80, length=60, K=4, V=80, seed=3):
    """Documents drawn from the causal ddLDA prior itself (topics persist locally)."""
    from lla import Corpus
    rng = np.random.default_rng(seed)
    phi = np.zeros((K, V))
    phi[:, 1:] = rng.dirichlet(np.full(V - 1, 0.05), size=K)
    prior = DDPrior(K, 0.05, decay_weights("exponential", 5, 3.0))
    docs = []
    for _ in range(n_docs):
        z = []
        for _ in range(length):
            z.append(rng.choice(K, p=prior.theta_of_history(z[-5:])))
        docs.append([rng.choice(V, p=phi[k]) for k in z])
    return Corpus.from_documents(docs, V)


def test_fits_synthetic_data_beats_unigram_and_round_trips(tmp_path):
    c = _sample_ddlda_corpus()
    m = DDLDA(4, n_iter=30, width=5, random_state=0).fit(c)
    ppl = m.perplexity(c)
    assert ppl < 0.9 * Unigram().fit(c).perplexity(c)
    assert m.n_parameters()["nonzero"] == np.count_nonzero(m.n_wk_)
    m2 = DDLDA(4, n_iter=30, width=5, random_state=0).fit(c)
    assert np.array_equal(m.z_, m2.z_)  # same seed, same model
    assert m2.perplexity(c) == ppl       # scoring has its own fixed stream
    m.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.perplexity(c) == pytest.approx(ppl)
    assert loaded.top_words(0, 3) == m.top_words(0, 3) and len(m.top_words(0, 3)) == 3
    assert all(isinstance(w, str) for w in m.top_words(1, 5))


@pytest.mark.parametrize("kwargs", [{"n_topics": 0}, {"n_topics": 2, "alpha": -1},
                                    {"n_topics": 2, "kernel": "gauss"}, {"n_topics": 2, "width": 0}])
def test_bad_parameters(kwargs):
    data = generate(n_docs=3, doc_length=10, seed=0)
    with pytest.raises(ParameterError):
        DDLDA(**kwargs).fit(data.corpus)
