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
from ._particles import Particles, step_tensors
from .schedule import pack

#: S of held-out scoring unless the caller says otherwise (DESIGN §2: within ±0.5 PPL of itself
#: across seeds on movielens)
DEFAULT_PARTICLES = 16


@one_cpu_thread
@torch.no_grad()
def particle_filter_log_prob(prior, log_phi_wk, tokens, lengths, score_from, *,
                             n_particles=DEFAULT_PARTICLES, generator, n_slots=64, progress=None,
                             return_doc_topic=False, on_predictive=None, on_filtered=None):
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
    on_predictive : optional callback(out, theta_bar) at every step: ``out`` int64 (slots,) the
        output index of each slot's position (``n_out`` = not scored: prefix or idle),
        ``theta_bar`` float (slots, K) the filter's predictive topic distribution θ̄_t = Σ_s W_s
        θ^s_t, so that p̂(v | w_<t) = θ̄_t · φ_v (next-item ranks and predictions,
        :mod:`lla.prediction`)
    on_filtered : optional callback(token, posterior) at every step: ``token`` int64 (slots,) the
        index into ``tokens`` of each slot's token (-1 idle), ``posterior`` float (slots, K) the
        filtered p(z_t = k | w_≤t) = Σ_s W_s π^s_t (the explanation of a history)

    Returns
    -------
    float64 numpy array (Σ_d N_d − score_from[d],): natural-log predictive probabilities,
    documents in order, positions in order; then the doc-topic array if asked.
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

    def results(out_array):
        return (out_array, doc_topic[:n_docs].cpu().numpy()) if return_doc_topic else out_array

    if int(lengths.sum()) == 0:
        return results(np.zeros(n_out))

    sched = pack(lengths, n_slots)
    B = sched.n_slots
    doc = sched.doc
    scored = (doc >= 0) & (sched.position >= score_from[np.maximum(doc, 0)])
    out_index = np.where(scored, out_offsets[np.maximum(doc, 0)] + sched.position
                         - score_from[np.maximum(doc, 0)], n_out)
    prefix_doc = np.where((doc >= 0) & ~scored, doc, n_docs)  # doc-topic target (dummy n_docs)

    words, index, start, counter = step_tensors(tokens, sched, device, progress)
    out_idx = torch.as_tensor(out_index, device=device)
    prefix_doc_t = torch.as_tensor(prefix_doc, device=device)

    starts_any = sched.any_start()
    log_preds = torch.empty(sched.n_steps, B, dtype=torch.float32, device=device)
    particles = Particles(prior, B, S, generator)
    for s in range(sched.n_steps):
        if starts_any[s]:
            particles.start(start[s])
        log_theta, lp, log_ps = particles.weigh(log_phi_wk.index_select(0, words[s]))
        log_pred = torch.logsumexp(particles.log_w + log_ps, dim=1)      # (B,)
        log_preds[s] = log_pred
        if on_predictive is not None:
            theta_bar = (torch.exp(particles.log_w)[:, :, None] * torch.exp(log_theta)).sum(dim=1)
            on_predictive(out_idx[s], theta_bar)
        _, probs = particles.propagate(lp)
        particles.log_w = particles.log_w + log_ps - log_pred[:, None]
        w = torch.exp(particles.log_w)
        if return_doc_topic or on_filtered is not None:
            post = (w[:, :, None] * probs.view(B, S, K)).sum(dim=1)
            if return_doc_topic:
                doc_topic.index_add_(0, prefix_doc_t[s], post.to(torch.float64))
            if on_filtered is not None:
                on_filtered(index[s], post)
        particles.resample(w, torch.cumsum(w, dim=1))
        counter.step(s)
    out = torch.zeros(n_out + 1, dtype=torch.float64, device=device)
    out[out_idx] = log_preds.to(torch.float64)              # unscored rows write the dummy n_out
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


def ranking_callback(log_phi_wk, n_out, consume):
    """An ``on_predictive`` for :func:`particle_filter_log_prob` that hands every scored slot's
    next-item predictive p̂(v | w_<t) = θ̄_t · φ_v (float (M, V)) and θ̄_t to ``consume(out,
    scores, is_log=False, topic_probs)`` (:mod:`lla.prediction`).  The (slots, K) × (K, V)
    product is made for all slots of the step, scored or not, as the filter always did."""
    phi_kv = torch.exp(log_phi_wk).T.contiguous()                     # φ (K, V)

    def on_predictive(out, theta_bar):
        keep = out < n_out
        if bool(keep.any()):
            scores = theta_bar @ phi_kv                                   # (slots, V)
            consume(out[keep].cpu().numpy(), scores[keep].cpu().numpy(), False,
                    theta_bar[keep].cpu().numpy())
    return on_predictive


def filter_predictive(run_filter, stream, corpus, consume, log_phi_wk, *, n_particles=None,
                      explain=False):
    """A particle-filter model's ``_predictive`` (:mod:`lla.prediction`): one run of
    ``run_filter(corpus, n_particles, stream, **callbacks)`` hands the predictive of every
    held-out position to ``consume``; with ``explain`` the same run also records the
    filtered topic path of every prefix, which is returned (one int64 array per document)."""
    callbacks = {"on_predictive": ranking_callback(log_phi_wk, corpus.n_suffix_tokens,
                                                   consume)}
    if explain:
        callbacks["on_filtered"], path = path_callback(corpus.n_tokens)
    run_filter(corpus, n_particles, stream, **callbacks)
    if not explain:
        return None
    return [path[corpus.offsets[d]:corpus.offsets[d] + corpus.prefix_lengths[d]]
            for d in range(len(corpus))]


def path_callback(n_tokens):
    """An ``on_filtered`` that records argmax_k p(z_t = k | w_≤t) of every token: returns
    (callback, path) with ``path`` int64 (n_tokens,) filled as the filter runs (the explanation
    of a history: the topics the filter read it as)."""
    path = np.full(n_tokens, -1, dtype=np.int64)

    def on_filtered(token, posterior):
        active = token >= 0
        path[token[active].cpu().numpy()] = posterior[active].argmax(dim=1).cpu().numpy()
    return on_filtered, path
