"""Next-action ranking metrics for user data (docs/corpora.md): HR@k and MRR over suffix positions.

Every model that supports ranking implements ``heldout_ranks(corpus) -> int64 array``: for every
held-out token, the rank of the true token among all V types under the model's predictive
distribution p(· | w_<t) (1 = ranked first; full ranking over the vocabulary; ties count
against the true token: rank = 1 + #{v : p(v) > p(true)}).
"""

import numpy as np


def rank_of_true(scores, true):
    """Ranks (1-based) of ``true`` (B,) in each row of ``scores`` (B, V), ties optimistic for
    nobody: rank = 1 + number of strictly higher scores."""
    scores = np.asarray(scores)
    true = np.asarray(true, dtype=np.int64)
    target = scores[np.arange(len(true)), true]
    return 1 + (scores > target[:, None]).sum(axis=1)


def hit_rate(ranks, k=10):
    """HR@k: fraction of held-out positions whose true token is ranked in the top k."""
    ranks = np.asarray(ranks)
    return float(np.mean(ranks <= k)) if ranks.size else float("nan")


def mean_reciprocal_rank(ranks):
    """MRR: mean of 1 / rank over held-out positions."""
    ranks = np.asarray(ranks, dtype=np.float64)
    return float(np.mean(1.0 / ranks)) if ranks.size else float("nan")
