"""Held-out perplexity (DESIGN §3) — the only place in lla where it is defined.

    PPL = exp( − Σ_d Σ_{t ∈ suffix(d)} log p(w_t | w_<t) / Σ_d |suffix(d)| )
"""

import math
import time

import numpy as np

from ..errors import InputError


def perplexity(log_probs):
    """exp(−mean log p) over the held-out tokens.

    Parameters
    ----------
    log_probs : array-like of float, shape (n_heldout_tokens,)
        Natural-log predictive probabilities log p(w_t | w_<t), one per held-out token.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.size == 0:
        raise InputError("no held-out tokens to score (every document's suffix is empty)")
    nan = np.isnan(log_probs)
    if nan.any():
        raise InputError(f"the model gives {int(nan.sum()):,} of {log_probs.size:,} held-out "
                         f"tokens a NaN log-probability: its parameters are broken (diverged "
                         f"training?), so it has no perplexity")
    zero = np.isinf(log_probs)
    if zero.any():
        raise InputError(f"the model gives {int(zero.sum()):,} of {log_probs.size:,} held-out "
                         f"tokens probability 0 (or a broken +inf log-probability): its "
                         f"perplexity is infinite")
    mean_nats = -log_probs.sum() / log_probs.size
    if mean_nats > 700:   # exp overflows a float64 beyond ~709.78
        raise InputError(f"the model's perplexity exp({mean_nats:.4g}) overflows: it gives "
                         f"held-out tokens absurdly small probabilities (diverged training?)")
    return float(math.exp(mean_nats))


def is_event_corpus(corpus):
    """User data (event logs): the protocol reports HR@10 and MRR too (docs/corpora.md)."""
    from ..data.readers import EVENT_FORMATS
    return (getattr(corpus, "meta", None) or {}).get("options", {}).get("format") in EVENT_FORMATS


def can_rank(model):
    """Whether ``model`` ranks next items (``heldout_ranks``; every built-in model does, a
    user's model may not)."""
    return callable(getattr(model, "heldout_ranks", None))


def evaluate(model, corpus, *, ranking="auto", n_particles=None, exclude_history=False):
    """Score ``model`` on ``corpus`` under the corpus's protocol.  Returns a JSON-able dict:
    ``protocol``, perplexity, log_likelihood (nats), heldout_tokens, parameters (dense / nonzero /
    total), seconds; with ranking (``True``, or ``"auto"`` = event data and a model that can
    rank):

    * ``prefix60`` (DESIGN §3): ``hr@10`` and ``mrr`` over every held-out position;
    * ``loo`` (the recommender field's leave-one-out, full sort): ``hr@10``, ``ndcg@10``,
      ``mrr@10`` of the test targets (each user's last event, ranked given everything before
      it) and the same with a ``validation_`` prefix for the validation targets (the event
      before); perplexity is then over both targets.

    ``n_particles`` (S) is the scoring setting of the models scored by a particle filter (None:
    the model's own); those models declare an ``n_particles`` hyper-parameter, and the result
    then says which S produced it.  ``exclude_history``: items already in the history leave the
    ranking (rating data; the result says so); ``"both"``: the unmasked metrics and, with a
    ``masked_`` prefix, the masked ones, from one scoring pass."""
    protocol = getattr(corpus, "protocol", "prefix60")
    if ranking == "auto":
        ranking = is_event_corpus(corpus) and can_rank(model)
    start = time.perf_counter()
    log_probs = model.heldout_log_prob(corpus, n_particles=n_particles)
    seconds = time.perf_counter() - start
    result = {
        "model": model.model_name,
        "protocol": protocol,
        "perplexity": perplexity(log_probs),
        "log_likelihood": float(np.sum(log_probs)),
        "heldout_tokens": int(np.size(log_probs)),
        "parameters": model.n_parameters(),
        "scoring_seconds": seconds,
    }
    if "n_particles" in model.get_params():
        result["n_particles"] = int(n_particles or model.n_particles)
    if ranking:
        from .ranking import hit_rate, mean_reciprocal_rank, ranking_metrics
        ranks = model.heldout_ranks(corpus, n_particles=n_particles,
                                    exclude_history=exclude_history)
        runs = [(ranks[0], ""), (ranks[1], "masked_")] if exclude_history == "both" \
            else [(ranks, "")]
        if exclude_history is True:
            result["exclude_history"] = True
        for r, tag in runs:
            if protocol == "loo":
                for part, prefix in (("test", ""), ("validation", "validation_")):
                    metrics = ranking_metrics(r[suffix_index(corpus, part)], 10)
                    result.update({tag + prefix + k: v for k, v in metrics.items()
                                   if not (tag and k == "n_targets")})
            else:
                result[tag + "hr@10"] = hit_rate(r, 10)
                result[tag + "mrr"] = mean_reciprocal_rank(r)
    return result


def suffix_index(corpus, part):
    """Where the ``part`` targets of ``corpus`` (:meth:`lla.Corpus.targets`) are in the
    suffix order of ``heldout_ranks`` / ``heldout_log_prob``: int64 (n_targets,)."""
    docs, positions = corpus.targets(part)
    suffix_start = np.concatenate([[0], np.cumsum(corpus.suffix_lengths)]).astype(np.int64)
    return suffix_start[docs] + positions - np.asarray(corpus.prefix_lengths)[docs]
