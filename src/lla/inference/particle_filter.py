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

from .._threads import one_cpu_thread
from ._particles import Particles, ProgressCounter
from .schedule import pack

#: S of held-out scoring unless the caller says otherwise (DESIGN §2: within ±0.5 PPL of itself
#: across seeds on movielens)
DEFAULT_PARTICLES = 16


@one_cpu_thread
@torch.no_grad()
def particle_filter_log_prob(prior, log_phi_wk, tokens, lengths, score_from, *,
                             n_particles=DEFAULT_PARTICLES, generator, n_slots=64, progress=None,
                             return_doc_topic=False, return_ranks=False):
    """log p̂(w_t | w_<t) for every position t ≥ score_from[d] of every document.  Runs on one
    CPU thread (:func:`lla._threads.one_cpu_thread`).

    Parameters
    ----------
    prior : prior-protocol object on some device (gives log θ_t of every particle)
    log_phi_wk : float (V, K) tensor on the prior's device, log φ_{w,k} (word-major)
    tokens : int array (n_tokens,), the whole documents concatenated in order
    lengths : int array (n_docs,), N_d
    score_from : int array (n_docs,), first scored position of every document (the prefix
        length for held-out scoring; 0 to score everything)
    n_particles : S
    generator : torch.Generator on the prior's device — pass a dedicated one so that scoring
        never disturbs training's random streams
    n_slots : documents filtered side by side (rows = n_slots · S)
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
    phi_kv = torch.exp(log_phi_wk).T.contiguous() if return_ranks else None  # φ (K, V)

    sched = pack(lengths, n_slots)
    B = sched.n_slots
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
    counter = ProgressCounter(progress, sched)

    out = torch.zeros(n_out + 1, dtype=torch.float64, device=device)
    particles = Particles(prior, B, S, generator)
    for s in range(sched.n_steps):
        words = tok[index[s].clamp(min=0)]
        particles.start(start[s])
        log_theta, lp, log_ps = particles.weigh(log_phi_wk[words])
        log_pred = torch.logsumexp(particles.log_w + log_ps, dim=1)      # (B,)
        out[out_idx[s]] = log_pred.to(torch.float64)
        if return_ranks:
            theta_bar = (torch.exp(particles.log_w)[:, :, None] * torch.exp(log_theta)).sum(dim=1)
            scores = theta_bar @ phi_kv                                      # (B, V)
            target = scores.gather(1, words[:, None])
            ranks[out_idx[s]] = 1 + (scores > target).sum(dim=1)
        _, probs = particles.propagate(lp)
        particles.log_w = particles.log_w + log_ps - log_pred[:, None]
        w = torch.exp(particles.log_w)
        if return_doc_topic:
            post = (w[:, :, None] * probs.view(B, S, K)).sum(dim=1)
            doc_topic.index_add_(0, prefix_doc_t[s], post.to(torch.float64))
        particles.resample(w, torch.cumsum(w, dim=1))
        counter.step(s)
    return results(out[:n_out].cpu().numpy())


def enumerated_log_prob(theta_fn, topic_word, words, score_from=0):
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
