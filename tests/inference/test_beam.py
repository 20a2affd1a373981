"""The beam-search SE-step against its twin and exact enumeration on a tiny topic-LLA."""

import itertools

import numpy as np
import torch
from scipy import stats

from lla.inference.beam import beam_reference, beam_se_step

WORDS = np.array([1, 4, 2, 4])   # K = 3, N = 4: 81 paths


def _posterior(tiny, words):
    """Exact p(z | w) over all K^N paths (itertools.product order)."""
    probs = []
    for path in itertools.product(range(tiny.K), repeat=len(words)):
        p = 1.0
        for t, w in enumerate(words):
            p *= tiny.theta(np.array(path[:t]))[path[t]] * tiny.topic_word[path[t], w]
        probs.append(p)
    probs = np.array(probs)
    return probs / probs.sum()


def _codes(paths, K=3):
    return paths @ (K ** np.arange(paths.shape[1] - 1, -1, -1))


def _draws(tiny, reps, width, seed=0, n_slots=256):
    z = beam_se_step(tiny.dynamics.stepper(), tiny.log_phi_t, np.tile(WORDS, reps),
                     np.full(reps, len(WORDS)), beam_width=width,
                     generator=torch.Generator().manual_seed(seed), n_slots=n_slots)
    return z.reshape(reps, len(WORDS)).astype(np.int64)


def test_a_beam_holding_every_path_samples_the_exact_posterior(tiny):
    exact = _posterior(tiny, WORDS)
    reps = 20_000
    counts = np.bincount(_codes(_draws(tiny, reps, width=81)), minlength=81)
    keep = exact * reps >= 5      # χ² over the paths with enough expected draws, rest pooled
    obs = np.append(counts[keep], counts[~keep].sum())
    exp_ = np.append(exact[keep], exact[~keep].sum()) * reps
    assert stats.chisquare(obs, exp_).pvalue > 1e-4
    # the test has power: the forward SE-step's path distribution (no look-ahead) is rejected
    forward = tiny.path_distribution(WORDS)
    exp_fwd = np.append(forward[keep], forward[~keep].sum()) * reps
    assert stats.chisquare(obs, exp_fwd).pvalue < 1e-10
    # the twin keeps every path too and gives them the posterior's probabilities
    paths, probs = beam_reference(tiny.theta, tiny.topic_word, WORDS, 81)
    assert len(paths) == 81 and np.allclose(probs, exact[_codes(paths)])


def test_narrow_beams_draw_from_the_twins_final_beam(tiny):
    reps = 12_000
    for width in (2, 5):
        paths, probs = beam_reference(tiny.theta, tiny.topic_word, WORDS, width)
        codes = _codes(_draws(tiny, reps, width, seed=width))
        assert set(np.unique(codes)) <= set(_codes(paths))     # only the beam's paths
        counts = np.array([(codes == c).sum() for c in _codes(paths)])
        assert stats.chisquare(counts, probs * reps).pvalue > 1e-4
        # a beam is not the posterior: the draws are concentrated on its few paths
        assert len(paths) == width


def test_width_one_is_greedy_decoding(tiny):
    paths, probs = beam_reference(tiny.theta, tiny.topic_word, WORDS, 1)
    assert probs.tolist() == [1.0]
    z = _draws(tiny, 30, width=1, n_slots=7)
    assert (z == paths[0]).all()
    # greedy: every topic is the argmax of θ_t φ_{w_t} given the greedy history
    for t, w in enumerate(WORDS):
        assert paths[0][t] == np.argmax(tiny.theta(paths[0][:t]) * tiny.topic_word[:, w])


def test_continuous_batching_keeps_every_path_with_its_document(tiny):
    # φ with disjoint supports: the only path of positive probability is the words' owners
    K, V = 3, 6
    owner = np.arange(V) % K
    phi = np.full((K, V), 1e-30)
    phi[owner, np.arange(V)] = 1.0
    phi /= phi.sum(axis=1, keepdims=True)
    log_phi_t = torch.as_tensor(np.log(phi.T), dtype=torch.float32)
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 9, size=40)
    tokens = rng.integers(0, V, size=int(lengths.sum()))
    z = beam_se_step(tiny.dynamics.stepper(), log_phi_t, tokens, lengths, beam_width=4,
                     generator=torch.Generator().manual_seed(0), n_slots=3)
    assert z.dtype == np.int32 and np.array_equal(z, owner[tokens])


def test_same_generator_same_paths_and_empty_input(tiny):
    a = _draws(tiny, 20, width=3, seed=4, n_slots=5)
    b = _draws(tiny, 20, width=3, seed=4, n_slots=5)
    assert np.array_equal(a, b)
    empty = beam_se_step(tiny.dynamics.stepper(), tiny.log_phi_t, np.zeros(0, np.int64),
                         np.zeros(2, np.int64), generator=torch.Generator())
    assert empty.shape == (0,)
