import numpy as np
import torch

from lla.data.synthetic import generate
from lla.inference.particle_filter import enumerated_log_prob, particle_filter_log_prob
from lla.inference.priors import LagDynamicsPrior

WORDS = np.array([1, 3, 5, 2, 2, 0, 4])  # T = 7, K = 3: 2187 paths


def _run(tiny, reps, S, score_from, seed=0, words=WORDS):
    n = len(words)
    return particle_filter_log_prob(
        tiny.dynamics.stepper(), tiny.log_phi_t, np.tile(words, reps), np.full(reps, n),
        np.full(reps, score_from), n_particles=S, generator=torch.Generator().manual_seed(seed),
        n_slots=256)


def test_likelihood_estimate_is_unbiased_against_exact_enumeration(tiny):
    exact = enumerated_log_prob(tiny.theta, tiny.topic_word, WORDS)
    reps = 4000
    lp = _run(tiny, reps, S=4, score_from=0).reshape(reps, len(WORDS))
    like = np.exp(lp.sum(axis=1))  # Π_t p̂(w_t | w_<t): unbiased for p(w_1..w_T)
    se = like.std() / np.sqrt(reps)
    assert abs(like.mean() - np.exp(exact.sum())) < 4 * se
    assert se < 0.02 * np.exp(exact.sum())  # the comparison is tight


def test_many_particles_give_the_exact_heldout_conditionals(tiny):
    # prefix = first 4 tokens, the filter returns the 3 suffix tokens conditioned on all before
    exact = enumerated_log_prob(tiny.theta, tiny.topic_word, WORDS, score_from=4)
    lp = _run(tiny, 8, S=4000, score_from=4).reshape(8, 3)
    assert np.allclose(lp.mean(axis=0), exact, atol=0.01)
    # and differs clearly from ignoring the dynamics' dependence on the path (sanity: a
    # one-particle filter is much noisier)
    one = _run(tiny, 8, S=1, score_from=4).reshape(8, 3)
    assert np.abs(one - exact).max() > 0.05


def test_scoring_the_true_synthetic_dynamics_by_the_same_filter():
    data = generate(n_docs=3, doc_length=7, n_topics=3, vocab_size=8, beta=0.5, seed=5)
    prior = LagDynamicsPrior(data.dynamics)
    log_phi_t = torch.as_tensor(np.log(data.topic_word.T + 1e-300), dtype=torch.float32)
    corpus = data.corpus
    lp = particle_filter_log_prob(prior, log_phi_t, np.asarray(corpus.tokens), corpus.doc_lengths,
                                  corpus.prefix_lengths, n_particles=3000,
                                  generator=torch.Generator().manual_seed(0))
    exact = np.concatenate([enumerated_log_prob(data.dynamics.theta, data.topic_word, corpus[d],
                                           corpus.prefix_lengths[d]) for d in range(3)])
    assert lp.shape == exact.shape == (corpus.n_suffix_tokens,)
    assert np.allclose(lp, exact, atol=0.02)


def test_own_generator_makes_scoring_reproducible_and_doc_topic_sums(tiny):
    a = _run(tiny, 5, S=8, score_from=3, seed=9)
    b = _run(tiny, 5, S=8, score_from=3, seed=9)
    assert np.array_equal(a, b)
    lp, dt = particle_filter_log_prob(
        tiny.dynamics.stepper(), tiny.log_phi_t, np.tile(WORDS, 5), np.full(5, 7), np.full(5, 3),
        n_particles=8, generator=torch.Generator().manual_seed(9), return_doc_topic=True)
    assert np.array_equal(lp, a)
    assert dt.shape == (5, 3) and np.allclose(dt.sum(axis=1), 3.0, atol=1e-5)


def _exact_predictive(tiny, words, t):
    """p(v | w_<t) for every type v (V,), by enumeration."""
    V = tiny.topic_word.shape[1]
    return np.array([np.exp(enumerated_log_prob(tiny.theta, tiny.topic_word,
                                           np.append(words[:t], v), score_from=t)[0])
                     for v in range(V)])


def _filter_with_ranks(prior, log_phi_wk, words, lengths, score_from, **kwargs):
    """log-probabilities and the ranks of the true words under the filter's predictive
    (the ``on_predictive`` path that heldout_ranks and predict_next use)."""
    from lla.evaluation import rank_of_true
    from lla.inference.particle_filter import ranking_callback
    words = np.asarray(words)
    lengths, score_from = np.asarray(lengths), np.asarray(score_from)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    true = np.concatenate([words[a + f:a + n] for a, n, f in zip(starts, lengths, score_from)])
    ranks = np.zeros(len(true), np.int64)

    def consume(out, scores, is_log, topics):
        ranks[out] = rank_of_true(scores, true[out])
    lp = particle_filter_log_prob(prior, log_phi_wk, words, lengths, score_from,
                                  on_predictive=ranking_callback(log_phi_wk, len(true), consume),
                                  **kwargs)
    return lp, ranks


def test_ranks_agree_with_exact_predictive_ranking(tiny):
    from lla.evaluation import rank_of_true
    score_from = 3
    exact_probs = np.array([_exact_predictive(tiny, WORDS, t) for t in range(score_from, 7)])
    exact_ranks = rank_of_true(exact_probs, WORDS[score_from:])
    lp, ranks = _filter_with_ranks(
        tiny.dynamics.stepper(), tiny.log_phi_t, WORDS, [7], [score_from], n_particles=20000,
        generator=torch.Generator().manual_seed(3))
    assert ranks.dtype == np.int64 and ranks.shape == lp.shape == (4,)
    # where the true type's probability is clearly separated from every other type's, the
    # particle approximation must rank it exactly like the exact predictive
    true_p = exact_probs[np.arange(4), WORDS[score_from:]]
    gaps = np.abs(exact_probs - true_p[:, None]) / true_p[:, None]
    gaps[np.arange(4), WORDS[score_from:]] = np.inf
    clear = gaps.min(axis=1) > 0.05
    assert clear.sum() >= 2
    assert np.array_equal(ranks[clear], exact_ranks[clear])
    assert np.all((ranks >= 1) & (ranks <= tiny.topic_word.shape[1]))


def test_ranks_use_the_scored_predictive_when_dynamics_ignore_topics():
    """A prior whose θ does not depend on z: p̂(v) = θ·φ_v exactly, so the ranks must equal
    rank_of_true on θφ and the log-probabilities log θφ_w."""
    from lla.evaluation import rank_of_true

    class FixedPrior:
        device = torch.device("cpu")
        n_topics = 3

        def __init__(self, theta):
            self.log_theta_row = torch.log(torch.as_tensor(theta, dtype=torch.float32))

        def initial_state(self, n):
            return torch.zeros(n, 1)

        def reset(self, state, starts):
            return state

        def log_theta(self, state):
            return self.log_theta_row.expand(state.shape[0], 3)

        def advance(self, state, z):
            return state

        def select(self, state, rows):
            return state[rows]

    rng = np.random.default_rng(0)
    theta = np.array([0.6, 0.3, 0.1])
    phi = rng.dirichlet(np.full(9, 0.3), size=3)
    words = rng.integers(0, 9, 12)
    lp, ranks = _filter_with_ranks(
        FixedPrior(theta), torch.as_tensor(np.log(phi.T), dtype=torch.float32), words, [6, 6],
        [2, 4], n_particles=5, generator=torch.Generator().manual_seed(0))
    probs = theta @ phi
    scored = np.r_[words[2:6], words[10:12]]
    assert np.array_equal(ranks, rank_of_true(np.tile(probs, (6, 1)), scored))
    assert np.allclose(lp, np.log(probs[scored]), atol=1e-5)
