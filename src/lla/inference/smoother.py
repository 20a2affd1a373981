"""An SE-step that samples whole topic paths from the posterior: a particle smoother.

The SE-step of DESIGN §2 ("forward") draws z_t ~ p(z_t | z_<t, w_t) ∝ θ_{t,k} φ_{w_t,k} one token
at a time; z_t never sees the words after t, so a topic switch is noticed late and the LSTM is
taught from noisy paths.  This sampler instead draws every document's path from (a particle
approximation of) the joint posterior p(z_1..z_N | w_1..w_N):

1. run the particle filter of :mod:`lla.inference.particle_filter` with S particles through the
   document (same prior protocol, same continuous-batching schedule, the locally optimal
   proposal z^s_t ~ θ^s_t φ_{w_t}, weights × p(w_t | z^s_<t), systematic resampling when
   ESS < S/2), recording the z drawn by every particle row and the ancestor indices chosen by
   every resampling;
2. at the end of the document draw one particle by its final weight and trace its ancestry
   back: that is the path (the "genealogy" sampler of sequential Monte Carlo, whose path
   distribution converges to the posterior as S grows).

Costs: S × the rows of the forward SE-step per batched step, plus n_tokens × S small ints of
history (int16 when K and S allow: 4 bytes per token and particle, z and ancestor) kept on the
prior's device until the trace-back.

:func:`smoother_se_step` is the batched sampler (torch, on the prior's device);
:func:`smoother_reference` is its slow twin over one document (pure Python/numpy, the particle
paths copied explicitly on resampling instead of traced back), used only by the tests.
"""

import numpy as np
import torch

from .._threads import one_cpu_thread
from ._particles import Particles, PathRecord, step_tensors
from .schedule import auto_slots, pack


@one_cpu_thread
@torch.no_grad()
def smoother_se_step(prior, log_phi_wk, tokens, lengths, *, n_particles=16, generator,
                     n_slots=64, progress=None, schedule=None):
    """Sample every document's topic path from the particle approximation of p(z | w).  Runs on
    one CPU thread (:func:`lla._threads.one_cpu_thread`).

    Parameters
    ----------
    prior : an object of the prior protocol (:mod:`lla.inference.priors`)
    log_phi_wk : float (V, K) tensor on the prior's device, log φ_{w,k} (word-major)
    tokens : int array (n_tokens,), the documents' tokens concatenated
    lengths : int array (n_docs,), N_d
    n_particles : S (S = 1 is exactly a forward sample: no resampling, one path)
    generator : torch.Generator on the prior's device
    n_slots : documents processed side by side (rows = n_slots · S)
    progress : optional tqdm-like object; ``update(n)`` with tokens done
    schedule : a precomputed :func:`lla.inference.schedule.pack` of ``lengths`` (optional)

    Returns
    -------
    z : int32 numpy array (n_tokens,), the sampled topics, aligned with ``tokens``
    """
    device = prior.device
    S = int(n_particles)
    if S < 1:
        raise ValueError(f"n_particles must be >= 1, got {n_particles}")
    lengths = np.asarray(lengths, dtype=np.int64)
    n = int(lengths.sum())
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    if schedule is None:
        schedule = pack(lengths, n_slots)
    B = schedule.n_slots
    n_steps = schedule.n_steps

    words, _, start, counter = step_tensors(tokens, schedule, device, progress)

    # for the trace-back: z of every row, the resampling ancestors, the final draw
    record = PathRecord(schedule, lengths, prior.n_topics, S, device)

    particles = Particles(prior, B, S, generator)
    for s in range(n_steps):
        particles.start(start[s])
        _, lp, log_ps = particles.weigh(log_phi_wk.index_select(0, words[s]))
        z, _ = particles.propagate(lp)
        record.z[s] = z.view(B, S)
        log_w = particles.log_w + log_ps
        particles.log_w = log_w - torch.logsumexp(log_w, dim=1, keepdim=True)
        w = torch.exp(particles.log_w)
        cdf = torch.cumsum(w, dim=1)
        # the particle a document ending here keeps (by its final weight)
        u_end = torch.rand(B, 1, generator=generator, device=device)
        record.final[s] = torch.searchsorted(cdf, u_end * cdf[:, -1:], right=True)[:, 0] \
            .clamp_(max=S - 1)
        record.back[s] = particles.resample(w, cdf)
        counter.step(s)

    return record.paths(n)


def smoother_reference(theta_fn, topic_word, words, n_particles, rng):
    """Slow twin of :func:`smoother_se_step` for one document.

    theta_fn(history int64 (t-1,)) -> θ_t (K,); topic_word float (K, V) = φ; words int (N,);
    rng : np.random.Generator.  Every particle carries its whole path; resampling copies paths.
    Returns int64 (N,), one path drawn from the particle approximation of p(z | w).
    """
    words = np.asarray(words, dtype=np.int64)
    S = int(n_particles)
    K = topic_word.shape[0]
    paths = [np.zeros(0, dtype=np.int64) for _ in range(S)]
    w = np.full(S, 1.0 / S)
    for t, word in enumerate(words):
        ps = np.zeros(S)
        for i in range(S):
            pi = np.asarray(theta_fn(paths[i]), dtype=np.float64) * topic_word[:, word]
            ps[i] = pi.sum()
            cdf = np.cumsum(pi / ps[i])
            k = min(int(np.searchsorted(cdf, rng.random(), side="right")), K - 1)
            paths[i] = np.append(paths[i], k)
        w = w * ps
        w = w / w.sum()
        if t < len(words) - 1 and 1.0 / np.sum(w * w) < S / 2.0:
            cdf = np.cumsum(w)
            positions = (rng.random() + np.arange(S)) / S * cdf[-1]
            anc = np.minimum(np.searchsorted(cdf, positions, side="right"), S - 1)
            paths = [paths[a].copy() for a in anc]
            w = np.full(S, 1.0 / S)
    cdf = np.cumsum(w)  # the final weights (before the last resampling, as the batched one)
    chosen = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), S - 1)
    return paths[chosen]


def smoother_se_step_fn(n_particles):
    """An ``se_step_fn`` for :func:`lla.inference.sem.sem_iteration` (topic-LLA): whole paths
    from the particle smoother with ``n_particles`` particles per document.  Rows per batched
    step = slots × S; slots = ``config.n_slots`` or about total / longest, at most 8192 / S."""
    S = int(n_particles)

    def se_step_fn(dynamics, phi, words, lengths, generator, config):
        slots = config.n_slots or auto_slots(lengths, cap=max(1, 8192 // S), floor=1)
        return smoother_se_step(dynamics.stepper(), phi.log_phi_wk, words, lengths, n_particles=S,
                                generator=generator, n_slots=slots)
    return se_step_fn
