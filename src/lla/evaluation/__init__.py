"""The evaluation protocol of DESIGN §3: one definition of perplexity, used by every model."""

from .perplexity import evaluate, perplexity
from .ranking import hit_rate, mean_reciprocal_rank, rank_of_true

__all__ = ["perplexity", "evaluate", "hit_rate", "mean_reciprocal_rank", "rank_of_true"]
