"""Vocabulary, tokenising, readers, the on-disk token store, 60/40 splits, batching."""

from .store import Corpus
from .vocab import Vocabulary

__all__ = ["Corpus", "Vocabulary"]
