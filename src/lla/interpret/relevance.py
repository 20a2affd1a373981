"""Readable topics: rank a topic's words by λ-relevance (DESIGN §5).

Sievert & Shirley (2014), "LDAvis: A method for visualizing and interpreting topics", as pyLDAvis
computes it::

    relevance(k, w | λ) = λ · log φ_kw + (1 − λ) · log(φ_kw / p_w)

φ_kw = p(w | topic k) is the (K, V) topic-word matrix, p_w the marginal probability of word w.
λ = 1 is the plain probability ranking (the most frequent words of the topic, which on a
language-modelling vocabulary are "the of a is and in" for every topic); λ = 0 ranks by *lift*
φ_kw / p_w alone, which favours rare words seen only in this topic.  The default λ = 0.6 is what
Sievert & Shirley's user study found best for identifying a topic (their optimum was λ ≈ 0.6);
pyLDAvis starts its slider there too.

Where p_w comes from: :func:`marginal_word_probability` computes p_w = Σ_k p(k) φ_kw with p(k)
the topic's share of the training tokens (n_k / N), which is what pyLDAvis uses (its
``term_frequency`` is Σ_d n_dw and the topic weights are the token shares); the corpus prefix
frequencies (``Corpus.prefix_counts() / n_prefix_tokens``) are the other natural choice.  p_w
must be positive wherever some φ_kw is (a word with p_w = 0 has undefined lift).
"""

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ._checks import labels_for, positive_int, topic_word

DEFAULT_LAMBDA = 0.6


def marginal_word_probability(phi, topic_weights=None):
    """p_w = Σ_k p(k) φ_kw.

    Parameters
    ----------
    phi : float array (K, V), rows φ_k (normalised here if they do not sum to 1)
    topic_weights : float array (K,), p(k) up to a constant, e.g. the token counts n_k;
        ``None`` = uniform.

    Returns
    -------
    float64 array (V,) summing to 1.
    """
    phi = _normalised(phi)
    K = phi.shape[0]
    if topic_weights is None:
        weights = np.full(K, 1.0 / K)
    else:
        weights = np.asarray(topic_weights, dtype=np.float64)
        if weights.shape != (K,) or not np.all(np.isfinite(weights)) or weights.min() < 0 \
                or weights.sum() <= 0:
            raise ParameterError(f"topic_weights must be {K} non-negative numbers with a "
                                 f"positive sum")
        weights = weights / weights.sum()
    return weights @ phi


def relevance(phi, p_w, lam=DEFAULT_LAMBDA):
    """λ-relevance of every (topic, word) pair.

    Parameters
    ----------
    phi : float array (K, V), φ_kw (rows are normalised to sum to 1)
    p_w : float array (V,), the marginal word probability (ignored when ``lam == 1``)
    lam : float in [0, 1]

    Returns
    -------
    float64 array (K, V); −inf where φ_kw = 0.
    """
    lam = _check_lambda(lam)
    phi = _normalised(phi)
    with np.errstate(divide="ignore"):
        log_phi = np.log(phi)
    if lam == 1.0:
        return log_phi
    with np.errstate(divide="ignore"):
        log_p = np.log(_check_marginal(p_w, phi))
    score = log_phi - (1.0 - lam) * np.where(np.isfinite(log_p), log_p, 0.0)[None, :]
    score[phi == 0] = -np.inf
    return score


@dataclass(frozen=True)
class TopWords:
    """The top-n words of every topic.

    Attributes
    ----------
    ids : int64 array (K, n), word ids, best first
    scores : float64 array (K, n), their relevance (log φ_kw when λ = 1)
    labels : list of K lists of n strings (the words' names), or None without names
    lam : float, the λ used
    """

    ids: np.ndarray
    scores: np.ndarray
    labels: list | None
    lam: float

    def head(self, n):
        """The first ``n`` words of every topic: the same as ranking only ``n`` (a ranking's top
        n is a prefix of its top m ≥ n; ties go to the smaller id in both)."""
        n = positive_int(n, "n")
        if n > self.ids.shape[1]:
            raise ParameterError(f"n = {n} exceeds the {self.ids.shape[1]} words ranked")
        labels = None if self.labels is None else [row[:n] for row in self.labels]
        return TopWords(ids=self.ids[:, :n], scores=self.scores[:, :n], labels=labels,
                        lam=self.lam)

    def label(self, k, n=3, sep=" · "):
        """A short label of topic ``k``: its first ``n`` words (names, else ids)."""
        words = self.labels[k] if self.labels is not None else [str(i) for i in self.ids[k]]
        return sep.join(words[:n])

    def short_labels(self, n=3, sep=" · "):
        """List of K short labels (see :meth:`label`)."""
        return [self.label(k, n, sep) for k in range(self.ids.shape[0])]


def top_words(phi, n=10, *, p_w=None, lam=DEFAULT_LAMBDA, names=None, exclude=None):
    """The ``n`` most relevant words of each topic.

    Parameters
    ----------
    phi : float array (K, V), φ_kw
    n : int, words per topic (at most V)
    p_w : float array (V,), marginal word probability; required unless ``lam == 1``
        (see the module docstring for where it comes from)
    lam : float in [0, 1], λ (1 = probability ranking)
    names : sequence of V strings (the vocabulary's types / item names), optional
    exclude : sequence of word ids never listed (e.g. ``[0]``, the ``<unk>`` id), optional

    Returns
    -------
    :class:`TopWords`.  Ties are broken by the smaller word id, so the result is deterministic.
    """
    lam = _check_lambda(lam)
    phi = _normalised(phi)
    K, V = phi.shape
    n = positive_int(n, "n")
    if n > V:
        raise ParameterError(f"n = {n} exceeds the vocabulary size V = {V}")
    names = labels_for(names, V, "names")
    if lam != 1.0 and p_w is None:
        raise ParameterError("p_w (the marginal word probability) is required unless lam = 1")
    score = relevance(phi, p_w, lam)
    allowed = np.arange(V)
    if exclude is not None:
        drop = np.unique(np.asarray(exclude, dtype=np.int64).ravel())
        if drop.size and (drop.min() < 0 or drop.max() >= V):
            raise ParameterError(f"exclude must hold word ids in [0, {V})")
        if V - drop.size < n:
            raise ParameterError(f"n = {n} exceeds the {V - drop.size} words left after exclude")
        allowed = np.setdiff1d(allowed, drop)
    ids = np.empty((K, n), dtype=np.int64)
    for k in range(K):
        ids[k] = allowed[_top_n(score[k, allowed], n)]
    scores = np.take_along_axis(score, ids, axis=1)
    labels = None if names is None else [[names[i] for i in row] for row in ids]
    return TopWords(ids=ids, scores=scores, labels=labels, lam=lam)


def _top_n(row, n):
    """Ids of the n largest entries of ``row``, best first, ties by smaller id."""
    if n < row.size:
        threshold = np.partition(row, row.size - n)[row.size - n]
        candidates = np.flatnonzero(row >= threshold)
    else:
        candidates = np.arange(row.size)
    order = np.lexsort((candidates, -row[candidates]))
    return candidates[order[:n]]


def _normalised(phi):
    phi = topic_word(phi)
    return phi / phi.sum(axis=1, keepdims=True)


def _check_lambda(lam):
    try:
        lam = float(lam)
    except (TypeError, ValueError):
        raise ParameterError(f"lam must be a number in [0, 1], got {lam!r}") from None
    if not 0.0 <= lam <= 1.0:
        raise ParameterError(f"lam must lie in [0, 1], got {lam}")
    return lam


def _check_marginal(p_w, phi):
    V = phi.shape[1]
    p = np.asarray(p_w, dtype=np.float64)
    if p.shape != (V,):
        raise ParameterError(f"p_w must have shape ({V},) like phi's columns, got {p.shape}")
    if not np.all(np.isfinite(p)) or p.min() < 0:
        raise ParameterError("p_w must be finite and non-negative")
    bad = np.flatnonzero((p <= 0) & (phi.max(axis=0) > 0))
    if bad.size:
        raise ParameterError(f"p_w is 0 for {bad.size} word(s) that some topic uses (first: id "
                             f"{int(bad[0])}); take p_w = Σ_k p(k) φ_kw instead")
    return p
