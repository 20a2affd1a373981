"""The stochastic E-step of SEM (DESIGN §2) for topic-LLA.

For every document, sequentially in t, with the LSTM state carried through the whole document:

    π_k ∝ θ_{t,k} · φ_{w_t,k},     z_t ~ Categorical(π)

where θ_t is the prior's output after the *sampled* z_{<t}.  φ is held fixed for the whole step
(counts are not decremented token by token), which is what makes all documents independent: they
are processed in parallel, batched across documents ("slots"), with continuous batching
(:mod:`lla.inference.schedule`).

:func:`se_step` is the fast batched sampler (torch, on the prior's device);
:func:`se_step_reference` is its slow twin over one document (numpy loop, θ from an arbitrary
history function), used only by the tests that check both draw from the same conditional.
"""

import numpy as np
import torch

from .._threads import one_cpu_thread
from ._particles import step_tensors
from .sampling import categorical
from .schedule import pack


@one_cpu_thread
@torch.no_grad()
def se_step(prior, log_phi_wk, tokens, lengths, *, generator, n_slots=256, progress=None,
            schedule=None):
    """Sample new topic assignments for every token.  Runs on one CPU thread
    (:func:`lla._threads.one_cpu_thread`).

    Parameters
    ----------
    prior : an object of the prior protocol (:mod:`lla.inference.priors`), e.g.
        ``Dynamics.stepper()``: gives log θ_t from the sampled history
    log_phi_wk : float (V, K) tensor on the prior's device: log φ_{w,k} (word-major)
    tokens : int array (n_tokens,), the documents' tokens concatenated (training prefixes)
    lengths : int array (n_docs,), N_d; document d is the next ``lengths[d]`` tokens
    generator : torch.Generator on the prior's device (the uniforms of the draws)
    n_slots : documents processed side by side (rows of every batched LSTM step)
    progress : optional tqdm-like object; ``update(n)`` is called with tokens done
    schedule : a precomputed :func:`lla.inference.schedule.pack` of ``lengths`` (optional)

    Returns
    -------
    z : int32 numpy array (n_tokens,), the sampled topics, aligned with ``tokens``
    """
    device = prior.device
    lengths = np.asarray(lengths, dtype=np.int64)
    n = int(lengths.sum())
    if schedule is None:
        schedule = pack(lengths, n_slots)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    words, index, start, counter = step_tensors(tokens, schedule, device, progress)
    R = schedule.n_slots
    starts_any = schedule.any_start()
    z_steps = torch.empty(schedule.n_steps, R, dtype=torch.int64, device=device)
    state = prior.initial_state(R)
    for s in range(schedule.n_steps):
        if starts_any[s]:
            state = prior.reset(state, start[s])
        log_theta = prior.log_theta(state)
        u = torch.rand(R, generator=generator, device=device)
        z, _ = categorical(log_theta + log_phi_wk.index_select(0, words[s]), u)
        z_steps[s] = z
        state = prior.advance(state, z)
        counter.step(s)
    z_buf = torch.zeros(n + 1, dtype=torch.int64, device=device)  # slot n: writes of idle rows
    z_buf[torch.where(index >= 0, index, n)] = z_steps
    return z_buf[:n].to(torch.int32).cpu().numpy()


def se_step_reference(theta_fn, topic_word, words, rng):
    """Slow twin of :func:`se_step` for one document (pure numpy loop).

    Parameters
    ----------
    theta_fn : callable(history int64 (t-1,)) -> θ_t float (K,), the prior after z_<t
    topic_word : float (K, V), φ
    words : int (N,), w_1..w_N
    rng : np.random.Generator

    Returns int64 (N,): z_t ~ π ∝ θ_t · φ_{w_t} drawn sequentially.
    """
    words = np.asarray(words, dtype=np.int64)
    z = np.zeros(len(words), dtype=np.int64)
    K = topic_word.shape[0]
    for t, w in enumerate(words):
        pi = np.asarray(theta_fn(z[:t]), dtype=np.float64) * topic_word[:, w]
        cdf = np.cumsum(pi / pi.sum())
        z[t] = min(int(np.searchsorted(cdf, rng.random(), side="right")), K - 1)
    return z
