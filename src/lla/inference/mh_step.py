"""Topic-LLA's SE-step for large K: Metropolis–Hastings instead of the K-way softmax.

Same schedule and same LSTM as :func:`lla.inference.se_step.se_step` (continuous batching, one
LSTM step per token and row, sequential in t), but z_t is drawn by a short MH chain whose
target is the exact conditional π_t ∝ θ_t φ_{w_t} (:mod:`lla._kernels.se_mh`: a word proposal
from the split φ = sparse + dense with alias tables, θ_t-weighted on the word's J most frequent
topics; a document proposal from the document's earlier topics).  The chain needs only the
logits l_k = W_p[k]·s_t + b_k of the topics it looks at — the softmax normaliser cancels in
every acceptance ratio — so a batched step of R rows costs

    forward (dense):  R·(4H·H  +  K·H  +  c·K)                LSTM cell, all K logits, then
                                                               softmax, ·φ, cumsum, search
    mh:               R·(4H·H  +  (J_w + 2m)·H  +  c'·J_w)     LSTM cell, the head's and the
                                                               proposed logits, O(1) draws

with m = ``mh_steps`` and J_w = min(K_w, J) ≤ J = the tables' ``head``: the saving is the K·H
read-out and the K-wide passes, which dominate at K = 1000 (E = H = 128, R = 512: 73 % of a
forward step; docs/topic_lla.md has the measurements).

Split between torch and numba (DESIGN §6): torch runs the LSTM and hands over s_t (R, H) — the
interface here is s_t with the read-out (W_p, b_p) of the prior protocol's optional
``features``/``readout``, not log θ — and the numba kernel draws z_t for every row; torch then
advances the LSTM by z_t.  On a GPU s_t is copied to the host and z_t back at every step
(R·H floats): it works but serialises the device, where the K-way step is cheap anyway
(``se_sampler="auto"`` picks "forward" on every non-CPU device).

:func:`mh_se_step` is the batched sampler; its twin is the kernel's twin
:mod:`lla._kernels.se_mh_ref` (the tests run both on the same rows and random states).
"""

import numpy as np
import torch

from .._kernels.se_mh import mh_rows
from .._threads import one_cpu_thread
from ._particles import ProgressCounter
from .schedule import auto_slots, pack

#: α_d of the document proposal q_d(k) ∝ n^d_{<t,k} + α_d (see :mod:`lla._kernels.se_mh`)
DOC_ALPHA = 0.1


def _host(x):
    return np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())


@one_cpu_thread
@torch.no_grad()
def mh_se_step(prior, proposal, tokens, lengths, *, mh_steps=2, generator, n_slots=256,
               progress=None, schedule=None, stats=None):
    """Sample new topic assignments for every token with MH chains of ``mh_steps`` proposal
    pairs.  Runs on one CPU thread (:func:`lla._threads.one_cpu_thread`).

    Parameters
    ----------
    prior : a prior with the linear read-out of :mod:`lla.inference.priors` (``features``,
        ``readout``), e.g. ``Dynamics.stepper()``
    proposal : the word proposal's tables of the step's counts,
        :func:`lla._kernels.se_mh.build_proposal` (``FixedPhi.proposal(head)``)
    tokens : int array (n_tokens,), the documents' tokens concatenated (training prefixes)
    lengths : int array (n_docs,), N_d
    mh_steps : m ≥ 1, (document, word) proposal pairs per token after the initial draw
    generator : torch.Generator on the prior's device (seeds one SplitMix64 state per row)
    n_slots : documents processed side by side
    progress : optional tqdm-like object; ``update(n)`` is called with tokens done
    schedule : a precomputed :func:`lla.inference.schedule.pack` of ``lengths`` (optional)
    stats : optional dict, filled with ``word_acceptance``, ``doc_acceptance`` (accepted /
        proposed, a proposal of the current topic counted as accepted), ``proposals`` and
        ``logits_per_token`` (the K-way step computes K)

    Returns
    -------
    z : int32 numpy array (n_tokens,), the sampled topics, aligned with ``tokens``
    """
    if not hasattr(prior, "readout"):
        raise TypeError("the MH SE-step needs a prior with a linear read-out "
                        "(features, readout), e.g. Dynamics.stepper()")
    device = prior.device
    lengths = np.asarray(lengths, dtype=np.int64)
    n = int(lengths.sum())
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    if int(mh_steps) < 1:
        raise ValueError(f"mh_steps must be >= 1, got {mh_steps}")
    if schedule is None:
        schedule = pack(lengths, n_slots)
    R = schedule.n_slots
    w_p, b_p = (_host(x) for x in prior.readout())
    K = w_p.shape[0]
    tok = np.asarray(tokens, dtype=np.int64)
    token_index, position = schedule.token_index, schedule.position
    start = torch.as_tensor(schedule.start, device=device)
    counter = ProgressCounter(progress, schedule)
    seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator, device=device))
    rng_state = np.random.SeedSequence(seed).generate_state(R, np.uint64)
    z_out = np.zeros(n, dtype=np.int64)
    n_dk = np.zeros((R, K), dtype=np.int32)
    z = np.zeros(R, dtype=np.int64)
    counts = np.zeros(5, dtype=np.int64)
    on_cpu = device.type == "cpu"
    z_t = torch.from_numpy(z) if on_cpu else None
    state = prior.initial_state(R)
    for s in range(schedule.n_steps):
        state = prior.reset(state, start[s])
        h = _host(prior.features(state))
        idx = token_index[s]
        mh_rows(h, w_p, b_p, tok[np.maximum(idx, 0)], idx, position[s], z_out, n_dk,
                proposal, int(mh_steps), DOC_ALPHA, rng_state, z, counts)
        state = prior.advance(state, z_t if on_cpu else torch.as_tensor(z, device=device))
        counter.step(s)
    if stats is not None:
        stats.update(word_acceptance=counts[1] / max(counts[0], 1),
                     doc_acceptance=counts[3] / max(counts[2], 1),
                     proposals=int(counts[0] + counts[2]),
                     logits_per_token=counts[4] / n)
    return z_out.astype(np.int32)


def mh_se_step_fn(mh_steps, head):
    """An ``se_step_fn`` for :func:`lla.inference.sem.sem_iteration` (topic-LLA): the MH
    SE-step with ``mh_steps`` proposal pairs per token and word proposals with heads of at most
    ``head`` topics; slots as the forward step's."""
    m, J = int(mh_steps), int(head)

    def se_step_fn(dynamics, phi, words, lengths, generator, config):
        return mh_se_step(dynamics.stepper(), phi.proposal(J), words, lengths, mh_steps=m,
                          generator=generator, n_slots=config.n_slots or auto_slots(lengths))
    return se_step_fn
