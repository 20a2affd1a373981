"""The evaluation protocol of DESIGN §3: one definition of perplexity, used by every model."""

from .perplexity import evaluate, perplexity

__all__ = ["perplexity", "evaluate"]
