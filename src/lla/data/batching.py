"""Batching helpers: group documents of similar length, pad them into rectangular arrays."""

import numpy as np

from ..errors import ParameterError

_PARTS = ("prefix", "suffix", "whole")


def _lengths(corpus, part):
    if part == "prefix":
        return corpus.prefix_lengths
    if part == "suffix":
        return corpus.suffix_lengths
    if part == "whole":
        return corpus.doc_lengths
    raise ParameterError(f"part must be one of {', '.join(_PARTS)}, got {part!r}")


def _tokens(corpus, d, part):
    if part == "prefix":
        return corpus.prefix(d)
    if part == "suffix":
        return corpus.suffix(d)
    return corpus[d]


def length_buckets(corpus, batch_size, *, part="prefix", rng=None, skip_empty=True):
    """Yield int64 arrays of document indices, each at most ``batch_size`` long, whose
    ``part`` lengths are close: documents are sorted by length, cut into consecutive batches,
    and (with ``rng``) the order of the batches is shuffled, with ties in length broken at
    random.  Without ``rng`` the order is deterministic (longest first)."""
    if batch_size < 1:
        raise ParameterError(f"batch_size must be >= 1, got {batch_size}")
    lengths = np.asarray(_lengths(corpus, part))
    docs = np.arange(len(lengths))
    if skip_empty:
        docs = docs[lengths > 0]
    tiebreak = rng.random(len(docs)) if rng is not None else np.zeros(len(docs))
    order = docs[np.lexsort((tiebreak, -lengths[docs]))]
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    yield from batches


def pad_batch(corpus, doc_indices, *, part="prefix", pad=0):
    """Tokens of the given documents as a (B, T_max) int64 array padded with ``pad``, and
    their lengths (B,)."""
    lengths = np.asarray(_lengths(corpus, part))[np.asarray(doc_indices)]
    out = np.full((len(doc_indices), int(lengths.max()) if len(lengths) else 0), pad, np.int64)
    for row, d in enumerate(doc_indices):
        out[row, :lengths[row]] = _tokens(corpus, int(d), part)
    return out, lengths.astype(np.int64)
