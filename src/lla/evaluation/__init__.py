"""The evaluation protocol of DESIGN §3: one definition of perplexity, used by every model."""

from .perplexity import can_rank, evaluate, is_event_corpus, perplexity
from .ranking import hit_rate, mean_reciprocal_rank, rank_of_true

__all__ = ["perplexity", "evaluate", "is_event_corpus", "can_rank", "hit_rate",
           "mean_reciprocal_rank", "rank_of_true"]
