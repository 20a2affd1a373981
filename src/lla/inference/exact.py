"""Exact held-out scoring for the LLA variants whose θ_t depends on the observed words only
(word-/char-LLA, DESIGN §3): p(w_t | w_<t) = Σ_k θ_{t,k} φ_{k,w_t}, read off one fused pass
(:func:`lla.inference.fused.fused_log_theta`) over whole documents (prefix and suffix), the
full predictive θ_t φ over V at every held-out position (next-item ranks and predictions), and
the topic every token is read as.  No particles.
"""

import numpy as np
import torch

from .._threads import one_cpu_thread
from .fused import fused_log_theta


def suffix_positions(lengths, prefix_lengths):
    """int64 (N,): the output slot of every token of the concatenated documents, -1 for prefix
    tokens (suffix tokens in document order, then position order)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    prefix_lengths = np.asarray(prefix_lengths, dtype=np.int64)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    t = np.arange(int(lengths.sum())) - starts
    suffix = t >= np.repeat(prefix_lengths, lengths)
    out = np.full(len(t), -1, dtype=np.int64)
    out[suffix] = np.arange(int(suffix.sum()))
    return out


@one_cpu_thread
@torch.no_grad()
def exact_log_prob(dynamics, topic_word, tokens, lengths, prefix_lengths, *, n_slots=None,
                   doc_topic=False):
    """Exact held-out scoring (DESIGN §3): log p(w_t | w_<t) = log Σ_k θ_{t,k} φ_{k,w_t} of every
    suffix token, one fused pass over whole documents (prefix + suffix), float64 sums.  Runs on
    one CPU thread.

    Parameters
    ----------
    dynamics : lla.nn.dynamics.Dynamics with a word-reading encoder
    topic_word : float64 (K, V) numpy, φ
    tokens : int (N,), lengths : int (D,), prefix_lengths : int (D,) — the corpus
    n_slots : documents side by side in the fused pass (None: automatic)
    doc_topic : also return float64 (D, K): Σ over prefix tokens of the posterior
        p(z_t = k | w_≤t) ∝ θ_{t,k} φ_{k,w_t}

    Returns float64 (n_suffix_tokens,) [, doc_topic].
    """
    device = dynamics.device
    tokens = np.asarray(tokens, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    slot = torch.as_tensor(suffix_positions(lengths, prefix_lengths), device=device)
    n_out = int((slot >= 0).sum())
    log_phi = torch.as_tensor(np.log(np.asarray(topic_word, dtype=np.float64).T),
                              device=device)                           # (V, K) float64
    tok = torch.as_tensor(tokens, device=device)
    out = torch.zeros(n_out + 1, dtype=torch.float64, device=device)
    doc_of = torch.as_tensor(np.repeat(np.arange(len(lengths)), lengths), device=device)
    K = dynamics.n_topics
    topics = torch.zeros(len(lengths), K, dtype=torch.float64, device=device)
    for index, log_theta in fused_log_theta(dynamics, tokens, lengths, n_slots=n_slots):
        pos = index.clamp(min=0)
        joint = log_theta.double() + log_phi[tok[pos]]                   # (B, W, K)
        lp = torch.logsumexp(joint, dim=-1)                              # (B, W)
        s = torch.where(index >= 0, slot[pos], -1)
        out[torch.where(s >= 0, s, n_out).reshape(-1)] = lp.reshape(-1)
        if doc_topic:
            prefix = ((index >= 0) & (s < 0)).reshape(-1)
            post = torch.exp(joint - lp[..., None]).reshape(-1, K)[prefix]
            topics.index_add_(0, doc_of[pos.reshape(-1)[prefix]], post)
    lp = out[:n_out].cpu().numpy()
    return (lp, topics.cpu().numpy()) if doc_topic else lp


@one_cpu_thread
@torch.no_grad()
def exact_predictive(dynamics, topic_word, tokens, lengths, prefix_lengths, consume, *,
                     max_rows=None, n_slots=None):
    """The full predictive p(v | w_<t) = Σ_k θ_{t,k} φ_{k,v} over all V types at every suffix
    position, handed to ``consume(out, scores, is_log=False, theta)`` (:mod:`lla.prediction`:
    ranks, predictions) in chunks: ``out`` int64 (m,) indices in suffix order, ``scores``
    float32 (m, V), ``theta`` float32 (m, K).  Runs on one CPU thread.

    The (rows, V) score matrix is built for at most ``max_rows`` suffix positions at a time
    (default: about 2²⁴ / V, i.e. ≤ 64 MiB of float32).
    """
    device = dynamics.device
    tokens = np.asarray(tokens, dtype=np.int64)
    phi = torch.as_tensor(np.asarray(topic_word, dtype=np.float32), device=device)   # (K, V)
    V = phi.shape[1]
    rows = int(max_rows or max(1, (1 << 24) // V))
    slot = torch.as_tensor(suffix_positions(lengths, prefix_lengths), device=device)
    for index, log_theta in fused_log_theta(dynamics, tokens, lengths, n_slots=n_slots):
        pos = index.clamp(min=0).reshape(-1)
        s = torch.where(index.reshape(-1) >= 0, slot[pos], -1)
        keep = s >= 0
        if not bool(keep.any()):
            continue
        theta = torch.exp(log_theta.reshape(-1, log_theta.shape[-1])[keep])  # (M, K)
        where = s[keep].cpu().numpy()
        for a in range(0, theta.shape[0], rows):
            scores = (theta[a:a + rows] @ phi).cpu().numpy()                 # (m, V)
            consume(where[a:a + rows], scores, False, theta[a:a + rows].cpu().numpy())


@one_cpu_thread
@torch.no_grad()
def exact_paths(dynamics, topic_word, tokens, lengths, *, n_slots=None):
    """argmax_k θ_{t,k} φ_{k,w_t} of every token: int64 (N,), the topic each token is read as
    (the explanation of a history for word-/char-LLA).  Runs on one CPU thread."""
    device = dynamics.device
    tokens = np.asarray(tokens, dtype=np.int64)
    log_phi = torch.as_tensor(np.log(np.asarray(topic_word, dtype=np.float64).T),
                              device=device)                           # (V, K)
    tok = torch.as_tensor(tokens, device=device)
    path = np.full(len(tokens), -1, dtype=np.int64)
    for index, log_theta in fused_log_theta(dynamics, tokens, lengths, n_slots=n_slots):
        keep = (index >= 0).reshape(-1)
        pos = index.reshape(-1)[keep]
        joint = log_theta.reshape(-1, log_theta.shape[-1])[keep].double() + log_phi[tok[pos]]
        path[pos.cpu().numpy()] = joint.argmax(dim=1).cpu().numpy()
    return path
