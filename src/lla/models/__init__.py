"""One module per model; importing this package registers every model for ``load_model``."""

from .lda import LDA
from .unigram import Unigram

__all__ = ["LDA", "Unigram"]
