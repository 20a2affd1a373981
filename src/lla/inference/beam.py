"""A beam-search SE-step: draw every document's topic path from a beam of B partial paths.

The paper "found empirically that augmenting the SEM inference with a beam search improved the
performance" and says no more.  Here (docs/topic_lla.md, "SE-step samplers") a document keeps a
beam of B partial topic paths with weights W ∝ p(z_1..z_t, w_1..w_t) / (selection
probability), each path with its own LSTM state.  At every token each path is extended by all
K topics — the B·K candidate weights W_parent · θ_t(k | path) · φ_{w_t,k} are the θ·φ products
the forward step computes for B rows — and B candidates survive.  At the end of the document
one path is drawn ∝ its weight and traced back.  Two rules choose the survivors:

* ``"sample"`` (the default, and what ``TopicLLA(se_sampler="beam")`` runs): Fearnhead &
  Clifford's (2003) resampling for discrete states, :func:`keep_or_resample` — the candidates
  whose normalised weight p_i reaches the threshold c (Σ_i min(1, p_i/c) = B) survive with
  their weight (the beam: the most probable paths are never lost), the others are sampled
  without replacement with probabilities p_i/c and weight c.  It is unbiased (E[W'·1(kept)] =
  p), never holds a path twice, is exactly the forward SE-step at B = 1 and exact posterior
  sampling of p(z | w) once B ≥ K^N; in between it is a particle smoother without duplicate
  particles (tests compare all three with enumeration).
* ``"top"``: the B best candidates survive — a plain beam search, the path drawn ∝ p(z, w)
  among the final B.  Mode-seeking (B = 1 is greedy decoding): on movielens it hardly changes
  the paths between SEM iterations and ends worse than the forward step (docs/topic_lla.md).

Cost: B × the rows of the forward step per batched step (one LSTM step and one K-way read-out
per beam entry), a sort of B·K candidates per slot ("sample") or a top-B ("top"), and 4 bytes
per token and beam entry of history (topic and parent, int16) until the trace-back — the same
as the particle smoother with S = B particles.

:func:`beam_se_step` is the batched sampler (torch, on the prior's device, continuous batching);
:func:`beam_reference` is its slow twin over one document (explicit list of paths).
"""

import numpy as np
import torch

from .._threads import one_cpu_thread
from ._particles import PathRecord, step_tensors
from .schedule import auto_slots, pack


@one_cpu_thread
@torch.no_grad()
def beam_se_step(prior, log_phi_wk, tokens, lengths, *, beam_width=4, selection="sample",
                 generator, n_slots=64, progress=None, schedule=None):
    """Draw every document's topic path from its beam of the ``beam_width`` best paths.  Runs
    on one CPU thread (:func:`lla._threads.one_cpu_thread`).

    Parameters
    ----------
    prior : an object of the prior protocol (:mod:`lla.inference.priors`)
    log_phi_wk : float (V, K) tensor on the prior's device, log φ_{w,k} (word-major)
    tokens : int array (n_tokens,), the documents' tokens concatenated
    lengths : int array (n_docs,), N_d
    beam_width : B ≥ 1
    selection : "sample" — keep the candidates whose weight is at least the threshold c and
        sample the others without replacement (:func:`keep_or_resample`); "top" — keep the B
        best (a deterministic beam search; B = 1 is greedy decoding)
    generator : torch.Generator on the prior's device (the final draw of every document)
    n_slots : documents processed side by side (rows = n_slots · B)
    progress : optional tqdm-like object; ``update(n)`` with tokens done
    schedule : a precomputed :func:`lla.inference.schedule.pack` of ``lengths`` (optional)

    Returns
    -------
    z : int32 numpy array (n_tokens,), the drawn paths, aligned with ``tokens``
    """
    device = prior.device
    W = int(beam_width)
    if W < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    if selection not in ("sample", "top"):
        raise ValueError(f"selection must be 'sample' or 'top', got {selection!r}")
    lengths = np.asarray(lengths, dtype=np.int64)
    n = int(lengths.sum())
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    if schedule is None:
        schedule = pack(lengths, n_slots)
    K = prior.n_topics
    B = schedule.n_slots
    n_steps = schedule.n_steps

    words, _, start, counter = step_tensors(tokens, schedule, device, progress)

    record = PathRecord(schedule, lengths, K, W, device)

    # a fresh beam: one empty path (score 0) and W - 1 dead entries (score -inf)
    fresh = torch.full((W,), -float("inf"), device=device)
    fresh[0] = 0.0
    score = fresh.expand(B, W).clone()
    slot_base = (torch.arange(B, device=device) * W)[:, None]
    state = prior.initial_state(B * W)
    for s in range(n_steps):
        starts = start[s]
        state = prior.reset(state, starts.repeat_interleave(W))
        score = torch.where(starts[:, None], fresh, score)
        log_theta = prior.log_theta(state).view(B, W, K)
        log_phi_rows = log_phi_wk.index_select(0, words[s])[:, None, :]
        cand = (score[:, :, None] + log_theta + log_phi_rows).view(B, W * K)
        if selection == "top":
            top, arg = torch.topk(cand, W, dim=1)      # sorted: top[:, 0] is the best
            score = top - top[:, :1].clamp(min=-1e30)   # relative scores (finite best entry)
        else:
            u0 = torch.rand(B, 1, generator=generator, device=device)
            arg, score = keep_or_resample(cand, W, u0)
        parent, topic = arg // K, arg % K
        if s > 0:
            record.back[s - 1] = parent.to(record.back.dtype)
        record.z[s] = topic.to(record.z.dtype)
        # the path a document ending here keeps: ∝ exp(score) over the beam
        u = torch.rand(B, 1, generator=generator, device=device)
        cdf = torch.cumsum(torch.exp(score), dim=1)
        record.final[s] = torch.searchsorted(cdf, u * cdf[:, -1:], right=True)[:, 0] \
            .clamp_(max=W - 1)
        state = prior.select(state, (slot_base + parent).reshape(-1))
        state = prior.advance(state, topic.reshape(-1))
        counter.step(s)
    return record.paths(n)


def keep_or_resample(log_w, n, u):
    """Reduce M weighted candidates to n without duplicates, unbiasedly (Fearnhead & Clifford
    2003, "optimal resampling" of discrete particle filters): find c with
    Σ_i min(1, p_i / c) = n (p = the normalised weights); keep every candidate with p_i ≥ c
    with its weight; draw the others with probability p_i / c by systematic sampling (one
    uniform per row) and give them weight c.

    log_w : float (R, M) unnormalised log weights (−inf allowed, at least one finite per row);
    n : kept per row;  u : float (R, 1) uniforms.
    Returns (index int64 (R, n) of the kept candidates, their normalised log weights (R, n));
    rows with fewer than n candidates of positive weight keep all of them and fill up with
    −inf entries.
    """
    R, M = log_w.shape
    p = torch.softmax(log_w, dim=1)
    ps, order = torch.sort(p, dim=1, descending=True)
    if M < n:
        pad = torch.zeros(R, n - M, dtype=ps.dtype, device=ps.device)
        ps = torch.cat([ps, pad], dim=1)
        order = torch.cat([order, torch.zeros(R, n - M, dtype=order.dtype,
                                              device=order.device)], dim=1)
        M = n
    tail = torch.flip(torch.cumsum(torch.flip(ps, [1]), dim=1), [1])    # Σ_{i ≥ L} p_(i)
    ramp = torch.arange(n, device=ps.device)
    c_L = tail[:, :n] / (n - ramp)                   # the threshold if L candidates are kept
    below = ps[:, :n] < c_L
    # L: the first rank whose weight is below its threshold (n: keep the n largest)
    L = torch.where(below.any(dim=1), below.to(torch.int8).argmax(dim=1),
                    torch.full((R,), n, device=ps.device))
    c = torch.gather(torch.cat([c_L, torch.ones(R, 1, dtype=c_L.dtype, device=c_L.device)],
                               dim=1), 1, L[:, None])                    # (R, 1)
    # systematic sampling of n − L among the ranks ≥ L with probabilities p_(i) / c (< 1 each)
    rest = torch.where(torch.arange(M, device=ps.device)[None, :] >= L[:, None], ps / c,
                       torch.zeros_like(ps))
    cum = torch.cumsum(rest, dim=1)
    drawn = torch.searchsorted(cum, u + ramp[None, :].to(cum.dtype), right=True) \
        .clamp_(max=M - 1)                                               # (R, n)
    slot = ramp[None, :] - L[:, None]                # resampled entry r takes draw r − L
    rank = torch.where(slot < 0, ramp[None, :].expand(R, n),
                       torch.gather(drawn, 1, slot.clamp(min=0)))
    weight = torch.where(slot < 0, torch.gather(ps, 1, rank), c.expand(R, n))
    return torch.gather(order, 1, rank), torch.log(weight)


def beam_reference(theta_fn, topic_word, words, beam_width, selection="top", rng=None):
    """Slow twin of :func:`beam_se_step` for one document (an explicit list of paths).

    theta_fn(history int64 (t-1,)) -> θ_t (K,); topic_word float (K, V) = φ; words int (N,);
    rng : np.random.Generator (needed for ``selection="sample"`` and for a draw).
    Returns (paths int64 (B', N), probabilities float64 (B',)): the final beam and the
    probability with which each of its paths is drawn; with ``rng`` one path drawn from it.
    ``selection="top"``: the B best extensions survive, paths ∝ p(z, w).  ``"sample"``: the
    candidates whose normalised weight p_i reaches the threshold c (Σ_i min(1, p_i/c) = B) survive
    with their weight, the others with probability p_i/c (systematic sampling) and weight c.
    """
    words = np.asarray(words, dtype=np.int64)
    K = topic_word.shape[0]
    B = int(beam_width)
    beam = [((), 0.0)]                                   # (path, log weight)
    for w in words:
        cand = []
        for path, sc in beam:
            lp = np.log(np.asarray(theta_fn(np.array(path, dtype=np.int64)), dtype=np.float64)) \
                + np.log(topic_word[:, w])
            cand.extend((path + (k,), sc + lp[k]) for k in range(K))
        cand.sort(key=lambda c: -c[1])
        if len(cand) <= B or selection == "top":
            beam = cand[:B]
            continue
        logs = np.array([sc for _, sc in cand])
        p = np.exp(logs - logs.max())
        p /= p.sum()
        L = 0
        while L < B and p[L] >= p[L:].sum() / (B - L):   # keep while at or above threshold
            L += 1
        if L == B:
            beam = cand[:B]
            continue
        c = p[L:].sum() / (B - L)
        cum = np.cumsum(p[L:] / c)
        u = rng.random()
        picked = [L + min(int(np.searchsorted(cum, u + j, side="right")), len(cum) - 1)
                  for j in range(B - L)]
        beam = [(cand[i][0], np.log(p[i])) for i in range(L)] + \
               [(cand[i][0], np.log(c)) for i in picked]
    paths = np.array([p for p, _ in beam], dtype=np.int64).reshape(len(beam), len(words))
    scores = np.array([sc for _, sc in beam])
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    if rng is None:
        return paths, probs
    return paths[rng.choice(len(probs), p=probs)]


def beam_se_step_fn(beam_width, selection="sample"):
    """An ``se_step_fn`` for :func:`lla.inference.sem.sem_iteration` (topic-LLA): paths drawn
    from beams of ``beam_width`` entries; rows per batched step = slots × B, slots =
    ``config.n_slots`` or about total / longest, at most 8192 / B."""
    W = int(beam_width)

    def se_step_fn(dynamics, phi, words, lengths, generator, config):
        slots = config.n_slots or auto_slots(lengths, cap=max(1, 8192 // W), floor=1)
        return beam_se_step(dynamics.stepper(), phi.log_phi_wk, words, lengths, beam_width=W,
                            selection=selection, generator=generator, n_slots=slots)
    return se_step_fn
