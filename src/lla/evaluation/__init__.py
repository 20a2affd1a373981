"""The evaluation protocol of DESIGN §3: one definition of perplexity, used by every model."""

from .perplexity import can_rank, evaluate, is_event_corpus, perplexity
from .ranking import (history_mask, hit_rate, mean_reciprocal_rank, mrr_at_k, ndcg,
                      rank_of_true, ranking_metrics)

__all__ = ["perplexity", "evaluate", "is_event_corpus", "can_rank", "hit_rate",
           "mean_reciprocal_rank", "rank_of_true", "ndcg", "mrr_at_k", "ranking_metrics",
           "history_mask"]
