"""The beam-search SE-step against its twin and exact enumeration on a tiny topic-LLA: the
default selection ("sample": keep the heavy candidates, sample the rest without replacement) is
the forward sampler at B = 1 and the exact posterior once the beam holds every path; the
deterministic "top" selection draws from the twin's final beam."""

import itertools

import numpy as np
import pytest
import torch
from scipy import stats

from lla.inference.beam import beam_reference, beam_se_step, keep_or_resample

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


def _draws(tiny, reps, width, seed=0, n_slots=256, selection="top"):
    z = beam_se_step(tiny.dynamics.stepper(), tiny.log_phi_t, np.tile(WORDS, reps),
                     np.full(reps, len(WORDS)), beam_width=width, selection=selection,
                     generator=torch.Generator().manual_seed(seed), n_slots=n_slots)
    return z.reshape(reps, len(WORDS)).astype(np.int64)


def _pvalue(codes, probs):
    """χ² of path codes against a distribution over the 81 paths (rare paths pooled)."""
    counts = np.bincount(codes, minlength=len(probs))
    n = len(codes)
    keep = probs * n >= 5
    obs = np.append(counts[keep], counts[~keep].sum())
    return stats.chisquare(obs, np.append(probs[keep], probs[~keep].sum()) * n).pvalue


def _tv(codes, probs):
    return 0.5 * np.abs(np.bincount(codes, minlength=len(probs)) / len(codes) - probs).sum()


def test_a_beam_holding_every_path_samples_the_exact_posterior(tiny):
    exact = _posterior(tiny, WORDS)
    forward = tiny.path_distribution(WORDS)
    for selection in ("top", "sample"):
        codes = _codes(_draws(tiny, 20_000, width=81, selection=selection))
        assert _pvalue(codes, exact) > 1e-4
        # the test has power: the forward SE-step's path distribution (no look-ahead) is
        # rejected
        assert _pvalue(codes, forward) < 1e-10
    # the twin keeps every path too and gives them the posterior's probabilities
    paths, probs = beam_reference(tiny.theta, tiny.topic_word, WORDS, 81)
    assert len(paths) == 81 and np.allclose(probs, exact[_codes(paths)])


def test_sampled_beam_goes_from_the_forward_sampler_to_the_posterior(tiny):
    exact, forward = _posterior(tiny, WORDS), tiny.path_distribution(WORDS)
    reps = 20_000
    # B = 1: one candidate sampled ∝ θ_t φ_{w_t} at every step — the forward SE-step
    assert _pvalue(_codes(_draws(tiny, reps, 1, selection="sample")), forward) > 1e-4
    # B = 9 of 81 paths: already close to the posterior (the forward step is 0.17 away)
    codes = _codes(_draws(tiny, reps, 9, seed=1, selection="sample"))
    assert _tv(codes, exact) < 0.03 < 0.15 < _tv(codes, forward)
    # the twin draws from the same distribution (TV between the two samples at noise level)
    rng = np.random.default_rng(2)
    ref = _codes(np.array([beam_reference(tiny.theta, tiny.topic_word, WORDS, 9, "sample", rng)
                           for _ in range(3000)]))
    emp = np.bincount(codes, minlength=81) / reps
    assert _tv(ref, emp) < 0.06


def test_keep_or_resample_is_unbiased_without_duplicates():
    p = torch.tensor([[0.5, 0.2, 0.1, 0.1, 0.05, 0.05], [0.3, 0.3, 0.2, 0.1, 0.05, 0.05],
                      [0.6, 0.4, 0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    n, reps = 3, 20_000
    rows = p.repeat(reps, 1)                      # every row of p, reps times, in one call
    gen = torch.Generator().manual_seed(0)
    idx, log_w = keep_or_resample(torch.log(rows), n,
                                  torch.rand(len(rows), 1, generator=gen, dtype=torch.float64))
    w = torch.exp(log_w)
    assert torch.allclose(w.sum(dim=1), torch.ones(len(rows), dtype=torch.float64))
    live = torch.where(w > 0, idx, -1 - torch.arange(n))   # dead entries: distinct dummies
    assert (live.sort(dim=1).values.diff(dim=1) != 0).all()          # no candidate twice
    first = idx.view(reps, 3, n)[:, 0]
    assert (first[:, 0] == 0).all()               # p = 0.5 ≥ threshold c = 0.25: always kept
    assert torch.allclose(w.view(reps, 3, n)[:, 0, 0], torch.tensor(0.5, dtype=torch.float64))
    # E[weight · 1(kept)] = p: the reduced population is an unbiased stand-in for the full one
    total = torch.zeros(len(rows), 6, dtype=torch.float64).scatter_add_(1, idx, w)
    assert torch.allclose(total.view(reps, 3, 6).mean(dim=0), p, atol=0.01)


def test_narrow_top_beams_draw_from_the_twins_final_beam(tiny):
    reps = 12_000
    for width in (2, 5):
        paths, probs = beam_reference(tiny.theta, tiny.topic_word, WORDS, width)
        codes = _codes(_draws(tiny, reps, width, seed=width, selection="top"))
        assert set(np.unique(codes)) <= set(_codes(paths))     # only the beam's paths
        counts = np.array([(codes == c).sum() for c in _codes(paths)])
        assert stats.chisquare(counts, probs * reps).pvalue > 1e-4
        # a beam is not the posterior: the draws are concentrated on its few paths
        assert len(paths) == width


def test_top_width_one_is_greedy_decoding(tiny):
    paths, probs = beam_reference(tiny.theta, tiny.topic_word, WORDS, 1)
    assert probs.tolist() == [1.0]
    z = _draws(tiny, 30, width=1, n_slots=7, selection="top")
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
    for selection in ("top", "sample"):
        z = beam_se_step(tiny.dynamics.stepper(), log_phi_t, tokens, lengths, beam_width=4,
                         selection=selection, generator=torch.Generator().manual_seed(0),
                         n_slots=3)
        assert z.dtype == np.int32 and np.array_equal(z, owner[tokens])


def test_same_generator_same_paths_and_empty_input(tiny):
    for selection in ("top", "sample"):
        a = _draws(tiny, 20, width=3, seed=4, n_slots=5, selection=selection)
        b = _draws(tiny, 20, width=3, seed=4, n_slots=5, selection=selection)
        assert np.array_equal(a, b)
    empty = beam_se_step(tiny.dynamics.stepper(), tiny.log_phi_t, np.zeros(0, np.int64),
                         np.zeros(2, np.int64), generator=torch.Generator())
    assert empty.shape == (0,)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda(tiny):
    import copy
    dynamics = copy.deepcopy(tiny.dynamics).to("cuda")
    reps = 20_000
    z = beam_se_step(dynamics.stepper(), tiny.log_phi_t.to("cuda"), np.tile(WORDS, reps),
                     np.full(reps, len(WORDS)), beam_width=81,
                     generator=torch.Generator(device="cuda").manual_seed(0), n_slots=256)
    assert _pvalue(_codes(z.reshape(reps, len(WORDS)).astype(np.int64)),
                   _posterior(tiny, WORDS)) > 1e-4
