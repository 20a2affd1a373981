"""What every model with topics offers beside scoring (DESIGN §5): its topics' words (by
probability or by λ-relevance, with item names where known), its topic embedding, and its
next-topic transition matrix.  Mixed into LDA, ddLDA and the LLA variants; the measures
themselves are the array functions of :mod:`lla.interpret`.
"""

import numpy as np

from .errors import ParameterError
from .interpret.relevance import DEFAULT_LAMBDA, marginal_word_probability
from .interpret.relevance import top_words as _ranked_words
from .interpret.transitions import transition_matrix as _empirical_transitions


class TopicWordMixin:
    """For models with a topic-word matrix ``topic_word_`` (φ, float (K, V)), counts ``n_wk_``
    (V, K) and the vocabulary ``vocab_types_`` (and ``item_names_`` where known)."""

    #: the kinds of :meth:`transition_matrix` the model offers
    transition_kinds = ("empirical",)

    def _has_topics(self):
        return True

    def topic_ids(self):
        """The ids of the topics, ``range(K)`` (stable: the same in every call and file)."""
        self._check_fitted()
        return range(self.topic_word_.shape[0])

    def topic_words(self, n=10, *, lam=1.0, names=True):
        """The ``n`` words of every topic, as a :class:`lla.interpret.TopWords` (ids (K, n),
        labels): by probability (``lam=1``) or by Sievert & Shirley's λ-relevance
        λ·log φ_kw + (1−λ)·log(φ_kw / p_w) with p_w = Σ_k p(k) φ_kw and p(k) the topics' token
        shares (``lam=lla.interpret.DEFAULT_LAMBDA`` = 0.6 is what ``lla topics``, the demo and
        the report show: their user study's optimum).  ``<unk>`` is never listed; ``names``:
        item names where the training corpus had them (film titles, artists)."""
        self._check_fitted()
        phi = self.topic_word_
        p_w = None
        if float(lam) != 1.0:
            p_w = marginal_word_probability(phi, np.asarray(self.n_wk_, np.float64).sum(axis=0))
        labels = self._display_names() if names else list(self.vocab_types_)
        n = min(int(n), phi.shape[1] - 1)
        return _ranked_words(phi, n, p_w=p_w, lam=lam, names=labels, exclude=[0])

    def top_words(self, k, n=10, *, lam=1.0, names=False):
        """The ``n`` words of topic ``k`` (strings), best first: by probability (``lam=1``,
        the default) or by λ-relevance (see :meth:`topic_words`)."""
        self._check_fitted()
        K = self.topic_word_.shape[0]
        if not 0 <= int(k) < K:
            raise ParameterError(f"topic {k} out of range [0, {K})")
        if n < 1:
            return []
        return self.topic_words(n, lam=lam, names=names).labels[int(k)]

    def topic_embedding(self):
        """The topics as vectors (K, ·) for the hierarchy and the topic map (DESIGN §5): φ itself
        for LDA-like models; the LLA variants override it with their network's embedding."""
        self._check_fitted()
        return np.asarray(self.topic_word_)

    def transition_matrix(self, kind="empirical"):
        """P(z_{t+1} = j | z_t = i), float (K, K): ``"empirical"`` from the model's topic
        assignments of the training prefixes (``z_``; transitions never cross documents; a topic
        that is never followed gets a NaN row).  Topic-LLA also offers ``"lstm"``."""
        self._check_fitted()
        if kind != "empirical":
            raise ParameterError(f"kind must be 'empirical' for a {self.model_name} model, got "
                                 f"{kind!r}")
        K = self.topic_word_.shape[0]
        P, _ = _empirical_transitions(np.asarray(self.z_), np.asarray(self.prefix_lengths_), K)
        return P


__all__ = ["TopicWordMixin", "DEFAULT_LAMBDA"]
