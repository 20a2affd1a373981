"""The unigram (frequency) model: the floor every model must beat (docs/corpora.md)."""

import numpy as np

from ..base import Model
from ..errors import ParameterError
from ..params import Param


class Unigram(Model):
    """p(w) = (c_w + smoothing) / (Σ c + V·smoothing), c_w = training-prefix counts.

    ``smoothing=1`` is add-one (Laplace), the reference model of docs/corpora.md.
    """

    model_name = "unigram"
    _parameters = {"smoothing": Param("float", low=0, flag="--smoothing", metavar="C",
                                      help="unigram: pseudo-count added to every type")}

    def __init__(self, smoothing=1.0):
        self._store_arguments(locals())

    def _fitted_attribute(self):
        return "word_prob_"

    def fit(self, corpus, *, resume=False):
        self._validate()
        self._refuse_resume(resume)
        self._record_corpus(corpus)
        counts = corpus.prefix_counts().astype(np.float64) + self.smoothing
        if counts.sum() <= 0:
            raise ParameterError("the corpus has no training tokens and smoothing is 0")
        self.word_prob_ = counts / counts.sum()  # (V,)
        return self

    def _trained_vocabulary_size(self):
        return self.word_prob_.size

    def heldout_log_prob(self, corpus, *, n_particles=None):
        self._check_vocabulary(corpus)
        out = [np.log(self.word_prob_[np.asarray(corpus.suffix(d))]) for d in range(len(corpus))]
        return np.concatenate(out) if out else np.zeros(0)

    def _predictive(self, corpus, consume, *, n_particles=None, explain=False):
        """Popularity: the same distribution at every held-out position."""
        self._check_vocabulary(corpus)
        n, V = corpus.n_suffix_tokens, self.word_prob_.size
        rows = max(1, (1 << 22) // V)
        for a in range(0, n, rows):
            b = min(n, a + rows)
            consume(np.arange(a, b), np.broadcast_to(self.word_prob_, (b - a, V)), False, None)

    def n_parameters(self):
        n = int(self.word_prob_.size)
        return {"dense": n, "nonzero": 0, "total": n}

    def _get_state(self):
        return {}, {"word_prob": self.word_prob_}

    def _set_state(self, metadata, arrays):
        self.word_prob_ = arrays["word_prob"]
