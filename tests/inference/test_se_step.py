import numpy as np
import torch
from scipy import stats

from lla.inference.priors import LagDynamicsPrior
from lla.inference.se_step import se_step, se_step_reference
from lla.data.synthetic import generate


WORDS = np.array([1, 4, 2, 4])


def path_ids(z, K):
    """Row-wise path index in itertools.product order: z (n, N) -> (n,)."""
    z = np.asarray(z)
    return (z * (K ** np.arange(z.shape[1])[::-1])).sum(axis=1)


def _chi2_pvalue(counts, probs):
    expected = probs * counts.sum()
    return stats.chi2.sf(((counts - expected) ** 2 / expected).sum(), len(probs) - 1)


def test_batched_se_step_samples_the_exact_sequential_conditional(tiny):
    n = 20000
    # the same document n times; 512 slots so continuous batching restarts rows many times
    z = se_step(tiny.dynamics.stepper(), tiny.log_phi_t, np.tile(WORDS, n), np.full(n, 4),
                generator=torch.Generator().manual_seed(0), n_slots=512)
    counts = np.bincount(path_ids(z.reshape(n, 4), 3), minlength=81)
    exact = tiny.path_distribution(WORDS)
    assert _chi2_pvalue(counts, exact) > 1e-4
    # the test has power: sampling from θ alone (ignoring φ_w) or from φ alone is rejected
    prior_only = np.array([np.prod([tiny.theta(np.array(p[:t]))[p[t]] for t in range(4)])
                           for p in np.ndindex(3, 3, 3, 3)])
    assert _chi2_pvalue(counts, prior_only) < 1e-10
    phi_only = np.array([np.prod([tiny.topic_word[p[t], w] / tiny.topic_word[:, w].sum()
                                  for t, w in enumerate(WORDS)]) for p in np.ndindex(3, 3, 3, 3)])
    assert _chi2_pvalue(counts, phi_only) < 1e-10


def test_reference_twin_samples_the_same_conditional(tiny):
    rng = np.random.default_rng(1)
    n = 1500
    z = np.array([se_step_reference(tiny.theta, tiny.topic_word, WORDS, rng) for _ in range(n)])
    counts = np.bincount(path_ids(z, 3), minlength=81)
    assert _chi2_pvalue(counts, tiny.path_distribution(WORDS)) > 1e-4


def test_se_step_is_deterministic_given_the_generator(tiny):
    toks = np.tile(WORDS, 50)
    a = se_step(tiny.dynamics.stepper(), tiny.log_phi_t, toks, np.full(50, 4),
                generator=torch.Generator().manual_seed(3), n_slots=7)
    b = se_step(tiny.dynamics.stepper(), tiny.log_phi_t, toks, np.full(50, 4),
                generator=torch.Generator().manual_seed(3), n_slots=7)
    assert a.dtype == np.int32 and np.array_equal(a, b)


def test_se_step_with_true_dynamics_recovers_most_topics():
    data = generate(n_docs=40, doc_length=60, n_topics=4, vocab_size=200, beta=0.02, seed=2)
    lengths = data.corpus.doc_lengths
    prior = LagDynamicsPrior(data.dynamics)
    log_phi_t = torch.as_tensor(np.log(data.topic_word.T + 1e-12), dtype=torch.float32)
    z = se_step(prior, log_phi_t, np.asarray(data.corpus.tokens), lengths,
                generator=torch.Generator().manual_seed(0), n_slots=16)
    # sparse φ: the sampled topics are mostly the true ones
    assert np.mean(z == np.concatenate(data.z)) > 0.85
