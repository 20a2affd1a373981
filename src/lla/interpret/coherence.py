"""Topic quality, measured: NPMI coherence and topic diversity (DESIGN §5).

NPMI coherence (Bouma 2009; Lau, Newman & Baldwin 2014; Röder, Both & Hinneburg 2015's
``C_NPMI``) of a topic's top words w_1..w_n (n = 10 by convention) over a *reference corpus*::

    NPMI(w_i, w_j) = log[(P(w_i, w_j) + ε) / (P(w_i) P(w_j))] / −log(P(w_i, w_j) + ε)
    coherence(k)   = mean over the n(n−1)/2 pairs i < j of NPMI(w_i, w_j)

with probabilities estimated on *boolean sliding windows*: P(w) = (number of windows containing
w) / (number of windows), P(w_i, w_j) likewise for windows containing both.  The conventions are
those of gensim's ``CoherenceModel(coherence="c_npmi")`` (gensim 4.4), which the tests check
against to 1e-6 per topic:

* window size W = 10 tokens; the windows of a document are its ``N_d − W + 1`` runs of W
  consecutive tokens, and a document shorter than W is a single window of all its tokens
  (gensim: ``iter_windows(..., ignore_below_size=False)``); windows never cross documents;
* segmentation ``s_one_one`` (every ordered pair i ≠ j) and arithmetic mean: since NPMI is
  symmetric this is the mean over the unordered pairs used here;
* ε = 1e-12 added to P(w_i, w_j) in the numerator and in the normaliser, as gensim does.

Where this deliberately differs from gensim 4.4:

* gensim's ``WordOccurrenceAccumulator`` slides its window incrementally and, when a token
  leaves the window, marks that word absent even if another copy of it is still inside, so it
  undercounts windows in which a top word occurs twice (``a b a c`` with W = 3: gensim counts
  ``a`` in 1 of the 2 windows).  Here a window contains a word if the word occurs anywhere in
  it (the definition both papers state).  The two agree exactly when no top word repeats within
  a window, which is how the comparison test is built; a test documents the difference.
* an empty document contributes no window (gensim counts one empty window per empty text);
* a pair involving a top word that occurs in no window of the reference gets NPMI = −1 (the
  value for words that never co-occur; gensim divides by zero there), and
  :attr:`Coherence.n_missing` says how many such words each topic has.

The counts come from one numba pass over the token store (:mod:`lla._kernels.windows`): for the
union of all topics' top words (U ≤ K·n words), the number of windows containing each word and
each pair, a U×U table (U = 1000 for K = 100: 8 MB; never V×V).  The reference corpus is the
training prefixes by default (:func:`corpus_npmi`), or any corpus prepared with the same
vocabulary.

Topic diversity (Dieng, Ruiz & Blei 2020): the number of distinct words among all topics' top-25
words divided by 25·K; 1 = no two topics share a top word, 1/K = all topics are the same.
"""

from dataclasses import dataclass

import numpy as np

from .._kernels.windows import window_cooccurrence
from ..errors import ParameterError
from ._checks import integer_array, positive_int

DEFAULT_WINDOW = 10
DEFAULT_TOP_N = 10
DIVERSITY_TOP_N = 25
EPSILON = 1e-12  # gensim.topic_coherence.direct_confirmation_measure.EPSILON
_MAX_UNION = 11_585  # U² int64 counts stay under 1 GiB


@dataclass(frozen=True)
class Coherence:
    """NPMI coherence of K topics over one reference corpus.

    Attributes
    ----------
    npmi : float64 array (K,), each topic's mean pairwise NPMI, in [−1, 1]
    pair_npmi : float64 array (K, n, n), NPMI of each pair of its top words (diagonal NaN)
    n_missing : int64 array (K,), top words of the topic that occur in no window
    n_windows : int, number of windows in the reference corpus
    window : int, the window size W
    """

    npmi: np.ndarray
    pair_npmi: np.ndarray
    n_missing: np.ndarray
    n_windows: int
    window: int

    @property
    def mean(self):
        """The mean of the per-topic coherences."""
        return float(self.npmi.mean())


def npmi_coherence(top_ids, tokens, offsets, lengths=None, *, window=DEFAULT_WINDOW,
                   eps=EPSILON):
    """NPMI coherence of each topic's top words on a reference corpus given as store arrays.

    Parameters
    ----------
    top_ids : int array (K, n), the top-n word ids of each topic (n ≥ 2; conventionally the
        top 10 by φ_kw, i.e. ``top_words(phi, 10, lam=1).ids``), distinct within a row
    tokens : int array (n_tokens,), the reference corpus's token ids (a memory map is fine)
    offsets : int array (D + 1,), document d is ``tokens[offsets[d]:offsets[d+1]]``
    lengths : int array (D,), how many leading tokens of each document to use (e.g. the prefix
        lengths ``corpus.prefix_lengths``); ``None`` = whole documents
    window : int, W (default 10)
    eps : float, ε (default 1e-12, gensim's)

    Returns
    -------
    :class:`Coherence`
    """
    top = _check_top(top_ids, min_n=2)
    window = positive_int(window, "window")
    tokens = integer_array(tokens, "tokens")
    offsets = integer_array(offsets, "offsets")
    if offsets.size < 1 or offsets[0] != 0 or offsets[-1] != tokens.size \
            or np.any(np.diff(offsets) < 0):
        raise ParameterError("offsets must rise from 0 to len(tokens)")
    starts = np.ascontiguousarray(offsets[:-1], dtype=np.int64)
    doc_lengths = np.diff(offsets).astype(np.int64)
    if lengths is None:
        lengths = doc_lengths
    else:
        lengths = np.ascontiguousarray(integer_array(lengths, "lengths"), dtype=np.int64)
        if lengths.shape != doc_lengths.shape or np.any(lengths < 0) \
                or np.any(lengths > doc_lengths):
            raise ParameterError(f"lengths must be {doc_lengths.size} numbers between 0 and "
                                 f"each document's length")
    if tokens.size and tokens.min() < 0:
        raise ParameterError("tokens must be non-negative word ids")
    union, inverse = np.unique(top, return_inverse=True)
    inverse = inverse.reshape(top.shape)
    if union.size > _MAX_UNION:
        raise ParameterError(f"{union.size} distinct top words: the pair table would exceed "
                             f"1 GiB (at most {_MAX_UNION}); use fewer topics or words")
    n_types = int(max(union.max(), tokens.max() if tokens.size else 0)) + 1
    slot = np.full(n_types, -1, dtype=np.int32)
    slot[union] = np.arange(union.size, dtype=np.int32)
    n_windows, occ, co = window_cooccurrence(np.asarray(tokens), starts, lengths, slot,
                                             window, union.size)
    co = co + co.T
    return _npmi_from_counts(inverse, n_windows, occ, co, window, eps)


def corpus_npmi(top_ids, corpus, *, part="prefix", window=DEFAULT_WINDOW, eps=EPSILON):
    """:func:`npmi_coherence` on an :class:`lla.data.store.Corpus`.

    ``part`` = ``"prefix"`` (the training prefixes, the default reference) or ``"all"`` (whole
    documents, e.g. a separate reference corpus prepared with the same vocabulary).
    """
    if part == "prefix":
        lengths = np.asarray(corpus.prefix_lengths)
    elif part == "all":
        lengths = None
    else:
        raise ParameterError(f"part must be 'prefix' or 'all', got {part!r}")
    return npmi_coherence(top_ids, corpus.tokens, np.asarray(corpus.offsets), lengths,
                          window=window, eps=eps)


def topic_diversity(top_ids):
    """Distinct share of all topics' top words: |∪_k top(k)| / (K·n).

    Parameters
    ----------
    top_ids : int array (K, n), conventionally n = 25 (``top_words(phi, 25, lam=1).ids``)

    Returns
    -------
    float in [1/K, 1]
    """
    top = _check_top(top_ids, min_n=1)
    return float(np.unique(top).size / top.size)


def _npmi_from_counts(inverse, n_windows, occ, co, window, eps):
    """Per-topic NPMI from window counts; ``inverse`` (K, n) indexes the counted words."""
    n = inverse.shape[1]
    if n_windows == 0:
        raise ParameterError("the reference corpus has no tokens (no windows)")
    N = float(n_windows)
    p = occ / N
    p_i = p[inverse][:, :, None]
    p_j = p[inverse][:, None, :]
    p_ij = co[inverse[:, :, None], inverse[:, None, :]] / N
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log((p_ij + eps) / (p_i * p_j))
        pair = pmi / -np.log(p_ij + eps)
    pair[(p_i == 0) | (p_j == 0)] = -1.0
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    npmi = pair[:, upper].mean(axis=1)
    diagonal = np.eye(n, dtype=bool)
    pair[:, diagonal] = np.nan
    missing = (occ[inverse] == 0).sum(axis=1).astype(np.int64)
    return Coherence(npmi=npmi, pair_npmi=pair, n_missing=missing, n_windows=int(n_windows),
                     window=window)


def _check_top(top_ids, *, min_n):
    top = integer_array(top_ids, "top_ids", ndim=2)
    if top.shape[0] == 0 or top.shape[1] < min_n:
        raise ParameterError(f"top_ids must be (K, n) with K ≥ 1 and n ≥ {min_n}, got "
                             f"{top.shape}")
    if top.min() < 0:
        raise ParameterError("top_ids must be non-negative word ids")
    top = top.astype(np.int64)
    sorted_rows = np.sort(top, axis=1)
    dup = np.flatnonzero((sorted_rows[:, 1:] == sorted_rows[:, :-1]).any(axis=1))
    if dup.size:
        raise ParameterError(f"top_ids row {int(dup[0])} repeats a word")
    return top
