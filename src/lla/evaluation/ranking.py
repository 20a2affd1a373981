"""Next-item ranking metrics for user data: HR@k, NDCG@k, MRR@k (RecBole's definitions) and MRR.

Every target is ranked against **all** V types (full ranking, no sampled negatives: sampled
metrics are inconsistent, Krichene & Rendle 2020) under the model's predictive distribution
p(· | w_<t), given the whole history before it.  Ties count against the target:
rank = 1 + #{v : score(v) > score(target)} is the *best* rank the target can get among equal
scores, never better (RecBole breaks ties by ``torch.topk``'s order instead).

With one target per row the metrics of RecBole 1.2.1 (``recbole/evaluator/metrics.py``: Hit, NDCG,
MRR, averaged over targets) reduce to, for a target of rank r:

    HR@k   = [r <= k]
    NDCG@k = [r <= k] / log2(r + 1)        (the ideal DCG of one relevant item is 1)
    MRR@k  = [r <= k] / r

:func:`mean_reciprocal_rank` is the untruncated MRR (mean 1/r) of the 60/40 tables
(docs/corpora.md).

Every model that supports ranking implements ``heldout_ranks(corpus) -> int64 array``: one rank
per held-out token, computed with :func:`rank_of_true`.

Excluding the history: in rating data (MovieLens) a user consumes an item once, so a model that
ranks the history's items high wastes its top k.  ``rank_of_true(..., exclude=mask)`` removes the
masked items from the ranking (:func:`history_mask` builds the mask of each target's history);
tables must say whether they used it.  RecBole's general models (e.g. ``Pop``) are evaluated with
the history masked, its sequential models (GRU4Rec, SASRec) without.
"""

import numpy as np


def rank_of_true(scores, true, exclude=None):
    """Ranks (1-based) of ``true`` in each row of ``scores``, ties counted against the target.

    Parameters
    ----------
    scores : float array (B, V), higher = more likely (probabilities or logits)
    true : int array (B,), the target type of each row
    exclude : bool array (B, V) or None
        Items removed from the ranking (e.g. :func:`history_mask`).  A target that is itself
        excluded (a repeat of a history item) ranks after every remaining item, i.e. it is a miss,
        as in RecBole, which sets excluded scores to −inf.

    Returns
    -------
    int64 array (B,): 1 + the number of (non-excluded) items scored strictly higher.  A NaN
    score counts as the lowest possible one: a NaN target ranks last, never a hit.
    """
    scores = np.asarray(scores)
    if np.issubdtype(scores.dtype, np.floating) and np.isnan(scores).any():
        scores = np.where(np.isnan(scores), -np.inf, scores)
    true = np.asarray(true, dtype=np.int64)
    rows = np.arange(len(true))
    target = scores[rows, true]
    higher = scores > target[:, None]
    # a target at -inf (NaN, or probability 0) is behind everything, ties included
    higher |= (target == -np.inf)[:, None] & (np.arange(scores.shape[1]) != true[:, None])
    if exclude is None:
        return 1 + higher.sum(axis=1)
    exclude = np.asarray(exclude, dtype=bool)
    if exclude.shape != scores.shape:
        raise ValueError(f"exclude has shape {exclude.shape}, scores {scores.shape}")
    ranks = 1 + (higher & ~exclude).sum(axis=1)
    remaining = scores.shape[1] - exclude.sum(axis=1)
    return np.where(exclude[rows, true], remaining + 1, ranks).astype(np.int64)


def history_mask(histories, n_types):
    """bool array (B, V): row b is True at the types that occur in ``histories[b]`` (a sequence
    of type ids, e.g. ``corpus[d][:position]``)."""
    mask = np.zeros((len(histories), int(n_types)), dtype=bool)
    for b, history in enumerate(histories):
        mask[b, np.asarray(history, dtype=np.int64)] = True
    return mask


def _ranks(ranks):
    ranks = np.asarray(ranks, dtype=np.float64)
    if ranks.size and ranks.min() < 1:
        raise ValueError("ranks are 1-based")
    return ranks


def hit_rate(ranks, k=10):
    """HR@k: fraction of targets ranked in the top k."""
    ranks = _ranks(ranks)
    return float(np.mean(ranks <= k)) if ranks.size else float("nan")


def ndcg(ranks, k=10):
    """NDCG@k with one relevant item per target: mean of [r <= k] / log2(r + 1)."""
    ranks = _ranks(ranks)
    if not ranks.size:
        return float("nan")
    return float(np.mean(np.where(ranks <= k, 1.0 / np.log2(ranks + 1.0), 0.0)))


def mrr_at_k(ranks, k=10):
    """MRR@k (RecBole's ``mrr@k``): mean of [r <= k] / r."""
    ranks = _ranks(ranks)
    return float(np.mean(np.where(ranks <= k, 1.0 / ranks, 0.0))) if ranks.size else float("nan")


def mean_reciprocal_rank(ranks):
    """MRR: mean of 1 / rank over all targets (untruncated)."""
    ranks = _ranks(ranks)
    return float(np.mean(1.0 / ranks)) if ranks.size else float("nan")


def ranking_metrics(ranks, k=10):
    """{"hr@k", "ndcg@k", "mrr@k"} of ``ranks`` plus the number of targets ``n_targets``."""
    return {f"hr@{k}": hit_rate(ranks, k), f"ndcg@{k}": ndcg(ranks, k),
            f"mrr@{k}": mrr_at_k(ranks, k), "n_targets": int(np.size(ranks))}
