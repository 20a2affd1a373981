"""Held-out scoring of topic-LLA by a particle filter (sequential Monte Carlo, DESIGN §3).

θ_t depends on the unknown topics z_<t, so p(w_t | w_<t) = E[Σ_k θ_{t,k} φ_{w_t,k} | w_<t] is
estimated with S particles per document, run through the *whole* document (prefix and suffix):

    predictive   p̂(w_t | w_<t) = Σ_s W_s Σ_k θ^s_{t,k} φ_{w_t,k}
    propagate    z^s_t ~ π^s ∝ θ^s_{t,k} φ_{w_t,k}      (the locally optimal proposal)
    reweight     W_s ← W_s · Σ_k θ^s_{t,k} φ_{w_t,k} / p̂(w_t | w_<t)
    resample     systematic, for the documents whose ESS = 1 / Σ_s W_s² drops below S/2

The product of the predictives over a document is an unbiased estimate of p(w_1..w_N).  Every
token conditions on all earlier tokens, held-out ones included; only positions ≥ ``score_from``
(the held-out suffix) are returned.  Documents × particles are the rows of one batched prior
step; documents are packed into slots with continuous batching (:mod:`.schedule`).

The prior is any object of the protocol in :mod:`lla.inference.priors` (the LSTM of topic-LLA,
or the true dynamics of a synthetic corpus), so both are scored by the same code.
"""

import math

import numpy as np
import torch

from .sampling import categorical
from ._threads import single_cpu_thread
from .schedule import pack


def particle_filter_log_prob(*args, **kwargs):
    """See :func:`_particle_filter_log_prob` (run on one CPU thread)."""
    prior = args[0] if args else kwargs["prior"]
    with single_cpu_thread(prior.device):
        return _particle_filter_log_prob(*args, **kwargs)


@torch.no_grad()
def _particle_filter_log_prob(prior, log_phi_t, tokens, lengths, score_from, *, n_particles=16,
                             generator, n_slots=64, progress=None, return_doc_topic=False,
                              return_ranks=False):
    """log p̂(w_t | w_<t) for every position t ≥ score_from[d] of every document.

    Parameters
    ----------
    prior : prior-protocol object on some device (gives log θ_t of every particle)
    log_phi_t : float (V, K) tensor on the prior's device, log φ_{w,k}
    tokens : int array (n_tokens,), the whole documents concatenated in order
    lengths : int array (n_docs,), N_d
    score_from : int array (n_docs,), first scored position of every document (the prefix
        length for held-out scoring; 0 to score everything)
    n_particles : S
    generator : torch.Generator on the prior's device — pass a dedicated one so that scoring
        never disturbs training's random streams
    n_slots : documents filtered in parallel (rows = n_slots · S)
    progress : optional tqdm-like object, ``update(n)`` with tokens done
    return_doc_topic : also return float64 (n_docs, K): Σ over positions t < score_from[d] of
        the filtered posterior p(z_t = k | w_≤t), i.e. the expected topic counts of the prefix
    return_ranks : also return int64 ranks, aligned with the log-probabilities: the rank of the
        true w_t among all V types under the same predictive p̂(v | w_<t) = θ̄_t · φ_v with
        θ̄_t = Σ_s W_s θ^s_t (1 = first; ties count against the true type, as in
        :func:`lla.evaluation.rank_of_true`).  Costs a (slots, K) × (K, V) product per step.

    Returns
    -------
    float64 numpy array (Σ_d N_d − score_from[d],): natural-log predictive probabilities,
    documents in order, positions in order; then the doc-topic array and / or the ranks if
    asked (in that order).
    """
    device = prior.device
    S = int(n_particles)
    if S < 1:
        raise ValueError(f"n_particles must be >= 1, got {n_particles}")
    lengths = np.asarray(lengths, dtype=np.int64)
    score_from = np.minimum(np.asarray(score_from, dtype=np.int64), lengths)
    n_docs = len(lengths)
    n_out_doc = lengths - score_from
    out_offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(n_out_doc, out=out_offsets[1:])
    n_out = int(out_offsets[-1])
    K = prior.n_topics
    doc_topic = torch.zeros(n_docs + 1, K, dtype=torch.float64, device=device)
    ranks = torch.zeros(n_out + 1, dtype=torch.int64, device=device)

    def results(out_array):
        extra = ([doc_topic[:n_docs].cpu().numpy()] if return_doc_topic else []) + \
                ([ranks[:n_out].cpu().numpy()] if return_ranks else [])
        return (out_array, *extra) if extra else out_array

    if int(lengths.sum()) == 0:
        return results(np.zeros(n_out))
    phi_kv = torch.exp(log_phi_t).T.contiguous() if return_ranks else None  # φ (K, V)

    sched = pack(lengths, n_slots)
    B = sched.n_slots
    R = B * S
    doc = sched.doc
    scored = (doc >= 0) & (sched.position >= score_from[np.maximum(doc, 0)])
    out_index = np.where(scored, out_offsets[np.maximum(doc, 0)] + sched.position
                         - score_from[np.maximum(doc, 0)], n_out)
    prefix_doc = np.where((doc >= 0) & ~scored, doc, n_docs)  # doc-topic target (dummy n_docs)

    tok = torch.as_tensor(np.asarray(tokens, dtype=np.int64), device=device)
    index = torch.as_tensor(sched.token_index, device=device)
    start = torch.as_tensor(sched.start, device=device)
    out_idx = torch.as_tensor(out_index, device=device)
    prefix_doc_t = torch.as_tensor(prefix_doc, device=device)
    active = (sched.token_index >= 0).sum(axis=1)

    out = torch.zeros(n_out + 1, dtype=torch.float64, device=device)
    log_uniform = -math.log(S)
    log_w = torch.full((B, S), log_uniform, device=device)
    slot_base = (torch.arange(B, device=device) * S)[:, None]
    ramp = torch.arange(S, device=device, dtype=torch.float32)[None, :]
    identity = torch.arange(S, device=device)[None, :].expand(B, S)
    state = prior.initial_state(R)
    done = 0
    for s in range(sched.n_steps):
        idx = index[s]
        st = start[s]
        state = prior.reset(state, st.repeat_interleave(S))
        log_w = torch.where(st[:, None], torch.full_like(log_w, log_uniform), log_w)
        log_theta = prior.log_theta(state).view(B, S, K)
        lp = log_theta + log_phi_t[tok[idx.clamp(min=0)]][:, None, :]   # (B, S, K)
        log_ps = torch.logsumexp(lp, dim=2)                               # log p(w_t | z^s_<t)
        log_pred = torch.logsumexp(log_w + log_ps, dim=1)                 # (B,)
        out[out_idx[s]] = log_pred.to(torch.float64)
        if return_ranks:
            theta_bar = (torch.exp(log_w)[:, :, None] * torch.exp(log_theta)).sum(dim=1)
            scores = theta_bar @ phi_kv                                      # (B, V)
            target = scores.gather(1, tok[idx.clamp(min=0)][:, None])
            ranks[out_idx[s]] = 1 + (scores > target).sum(dim=1)
        u = torch.rand(R, generator=generator, device=device)
        z, probs = categorical(lp.reshape(R, K), u)
        state = prior.advance(state, z)
        log_w = log_w + log_ps - log_pred[:, None]
        w = torch.exp(log_w)
        if return_doc_topic:
            post = (w[:, :, None] * probs.view(B, S, K)).sum(dim=1)
            doc_topic.index_add_(0, prefix_doc_t[s], post.to(torch.float64))
        # systematic resampling where ESS < S/2
        need = (1.0 / (w * w).sum(dim=1)) < (S / 2.0)
        cdf = torch.cumsum(w, dim=1)
        u0 = torch.rand(B, 1, generator=generator, device=device)
        positions = (u0 + ramp) / S * cdf[:, -1:]
        ancestors = torch.searchsorted(cdf, positions, right=True).clamp_(max=S - 1)
        ancestors = torch.where(need[:, None], ancestors, identity)
        state = prior.select(state, (slot_base + ancestors).reshape(-1))
        log_w = torch.where(need[:, None], torch.full_like(log_w, log_uniform), log_w)
        if progress is not None:
            done += int(active[s])
            if (s & 63) == 63 or s == sched.n_steps - 1:
                progress.update(done)
                done = 0
    return results(out[:n_out].cpu().numpy())


def exact_log_prob(theta_fn, topic_word, words, score_from=0):
    """Exact log p(w_t | w_<t) for t ≥ score_from of one short document, by enumerating all
    K^N topic paths (reference for tests; N ≤ ~8).

    theta_fn(history int64 (t-1,)) -> θ_t float (K,); topic_word float (K, V) = φ.
    Returns float64 (N − score_from,).
    """
    words = np.asarray(words, dtype=np.int64)
    K = topic_word.shape[0]
    # forward over the tree of paths: prob[path] = p(z_1..z_t, w_1..w_t)
    paths = [np.zeros(0, dtype=np.int64)]
    probs = np.ones(1)
    log_marg = [0.0]
    for w in words:
        new_paths, new_probs = [], []
        for path, p in zip(paths, probs):
            theta = np.asarray(theta_fn(path), dtype=np.float64)
            for k in range(K):
                new_paths.append(np.append(path, k))
                new_probs.append(p * theta[k] * topic_word[k, w])
        paths, probs = new_paths, np.array(new_probs)
        log_marg.append(math.log(probs.sum()))
    return np.diff(np.array(log_marg))[score_from:]
