"""One module per model; importing this package registers every model for ``load_model``."""

from .unigram import Unigram

__all__ = ["Unigram"]
