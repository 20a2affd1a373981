import numpy as np
import pytest
import torch

from lla import DDLDA, ParameterError, Unigram, load_model
from lla.data.synthetic import generate
from lla.inference.particle_filter import exact_log_prob, particle_filter_log_prob
from lla.models.ddlda import DDPrior, decay_weights


def test_prior_matches_formula():
    w = decay_weights("exponential", 3, 2.0)
    prior = DDPrior(4, 0.5, w)
    theta = prior.theta_of_history([2, 0, 1, 1])  # lags 1..3: topics 1, 1, 0 (2 is out)
    expect = np.full(4, 0.5)
    expect[1] += w[1] + w[2]
    expect[0] += w[3]
    np.testing.assert_allclose(theta, expect / expect.sum(), rtol=1e-6)
    np.testing.assert_allclose(prior.theta_of_history([]), np.full(4, 0.25), rtol=1e-6)


def test_particle_filter_agrees_with_exact_enumeration():
    rng = np.random.default_rng(0)
    K, V, T = 3, 6, 6
    phi = rng.dirichlet(np.full(V, 0.3), size=K)
    prior = DDPrior(K, 0.2, decay_weights("exponential", 3, 2.0))
    words = rng.integers(0, V, T)
    exact = exact_log_prob(prior.theta_of_history, phi, words).sum()
    log_phi_t = torch.log(torch.as_tensor(phi.T, dtype=torch.float32))
    estimates = []
    for rep in range(60):
        g = torch.Generator().manual_seed(rep)
        lp = particle_filter_log_prob(prior, log_phi_t, words, [T], [0], n_particles=8,
                                      generator=g)
        estimates.append(np.exp(lp.sum()))
    # the filter's likelihood estimate is unbiased: mean within a few standard errors
    est = np.mean(estimates)
    se = np.std(estimates) / np.sqrt(len(estimates))
    assert abs(est - np.exp(exact)) < 4 * se + 1e-3 * np.exp(exact)


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
