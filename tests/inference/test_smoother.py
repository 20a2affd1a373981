import pytest
import itertools

import numpy as np
import torch

from lla.data.synthetic import generate
from lla.inference.priors import LagDynamicsPrior
from lla.inference.se_step import se_step
from lla.inference.smoother import smoother_reference, smoother_se_step

WORDS = np.array([1, 3, 5, 2, 0])  # T = 5, K = 3: 243 paths


def _posterior(theta_fn, topic_word, words):
    """Exact p(z_1..z_N | w_1..w_N) over all K^N paths (itertools.product order)."""
    K = topic_word.shape[0]
    probs = []
    for path in itertools.product(range(K), repeat=len(words)):
        p = 1.0
        for t, w in enumerate(words):
            p *= theta_fn(np.array(path[:t], dtype=np.int64))[path[t]] * topic_word[path[t], w]
        probs.append(p)
    probs = np.array(probs)
    return probs / probs.sum()


def _histogram(paths, K):
    """Empirical distribution of int (n, T) paths over the K^T paths (product order)."""
    T = paths.shape[1]
    codes = paths @ (K ** np.arange(T - 1, -1, -1))
    return np.bincount(codes, minlength=K ** T) / len(paths)


def _tv(p, q):
    return 0.5 * np.abs(p - q).sum()


def _noise_tv(exact, n, seed=0, reps=20):
    """TV of n exact draws from the truth (what sampling noise alone gives)."""
    rng = np.random.default_rng(seed)
    return np.mean([_tv(rng.multinomial(n, exact) / n, exact) for _ in range(reps)])


def _batched_paths(prior, log_phi_t, words, reps, S, seed=0, sampler="smoother"):
    T = len(words)
    gen = torch.Generator().manual_seed(seed)
    if sampler == "smoother":
        z = smoother_se_step(prior, log_phi_t, np.tile(words, reps), np.full(reps, T),
                             n_particles=S, generator=gen, n_slots=256)
    else:
        z = se_step(prior, log_phi_t, np.tile(words, reps), np.full(reps, T), generator=gen,
                    n_slots=256)
    return z.reshape(reps, T).astype(np.int64)


@pytest.mark.slow
def test_sampled_paths_follow_the_exact_posterior(tiny):
    exact = _posterior(tiny.theta, tiny.topic_word, WORDS)
    reps = 20000
    paths = _batched_paths(tiny.dynamics.stepper(), tiny.log_phi_t, WORDS, reps, S=64)
    emp = _histogram(paths, tiny.K)
    noise = _noise_tv(exact, reps)
    assert _tv(emp, exact) < 1.3 * noise + 0.005
    # marginals p(z_t | w_1..w_T) (the future words included)
    codes = np.array(list(itertools.product(range(tiny.K), repeat=len(WORDS))))
    for t in range(len(WORDS)):
        marg = np.bincount(codes[:, t], weights=exact, minlength=tiny.K)
        assert np.allclose(np.bincount(paths[:, t], minlength=tiny.K) / reps, marg, atol=0.015)
    # the comparison is sensitive: the forward SE-step draws from another distribution
    forward = _histogram(_batched_paths(tiny.dynamics.stepper(), tiny.log_phi_t, WORDS, reps,
                                        S=1, sampler="forward"), tiny.K)
    assert _tv(forward, exact) > 3 * noise


@pytest.mark.slow
def test_reference_twin_follows_the_exact_posterior(tiny):
    exact = _posterior(tiny.theta, tiny.topic_word, WORDS)
    rng = np.random.default_rng(0)
    reps = 3000
    paths = np.array([smoother_reference(tiny.theta, tiny.topic_word, WORDS, 32, rng)
                      for _ in range(reps)])
    assert _tv(_histogram(paths, tiny.K), exact) < 1.3 * _noise_tv(exact, reps) + 0.01


@pytest.mark.slow
def test_true_lag_dynamics_posterior_and_twin_agree():
    data = generate(n_docs=1, doc_length=6, n_topics=3, vocab_size=8, beta=0.5, strength=6.0,
                    min_lag=1, max_lag=2, persistence=2.0, seed=5)
    words = np.asarray(data.corpus[0], dtype=np.int64)
    dyn, phi = data.dynamics, data.topic_word
    exact = _posterior(dyn.theta, phi, words)
    log_phi_t = torch.as_tensor(np.log(phi.T + 1e-300), dtype=torch.float32)
    reps = 4000
    batched = _batched_paths(LagDynamicsPrior(dyn), log_phi_t, words, reps, S=32, seed=1)
    assert _tv(_histogram(batched, 3), exact) < 1.3 * _noise_tv(exact, reps) + 0.01
    rng = np.random.default_rng(1)
    ref = np.array([smoother_reference(dyn.theta, phi, words, 16, rng) for _ in range(1000)])
    assert _tv(_histogram(ref, 3), exact) < 1.3 * _noise_tv(exact, 1000) + 0.015


def test_continuous_batching_keeps_every_path_with_its_document(tiny):
    # φ with disjoint supports: the posterior puts all mass on z_t = the topic owning w_t
    K, V = 3, 6
    owner = np.arange(V) % K
    phi = np.full((K, V), 1e-30)
    phi[owner, np.arange(V)] = 1.0
    phi /= phi.sum(axis=1, keepdims=True)
    log_phi_t = torch.as_tensor(np.log(phi.T), dtype=torch.float32)
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 9, size=40)
    tokens = rng.integers(0, V, size=int(lengths.sum()))
    z = smoother_se_step(tiny.dynamics.stepper(), log_phi_t, tokens, lengths, n_particles=8,
                         generator=torch.Generator().manual_seed(0), n_slots=3)
    assert z.dtype == np.int32 and np.array_equal(z, owner[tokens])


def test_same_generator_same_paths_and_empty_input(tiny):
    tokens, lengths = np.tile(WORDS, 7), np.full(7, len(WORDS))

    def run(seed):
        return smoother_se_step(tiny.dynamics.stepper(), tiny.log_phi_t, tokens, lengths,
                                n_particles=8, generator=torch.Generator().manual_seed(seed))
    assert np.array_equal(run(3), run(3))
    assert run(3).shape == tokens.shape
    empty = smoother_se_step(tiny.dynamics.stepper(), tiny.log_phi_t, np.zeros(0, np.int64),
                             np.zeros(2, np.int64), generator=torch.Generator())
    assert empty.shape == (0,)
