"""ddLDA's causal window prior: its formula, and the particle filter over it against exact
enumeration."""

import numpy as np
import torch

from lla.inference.particle_filter import enumerated_log_prob, particle_filter_log_prob
from lla.inference.priors import DDPrior, decay_weights


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
    exact = enumerated_log_prob(prior.theta_of_history, phi, words).sum()
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
