"""What the neural baselines (word-/char-LSTM, autoencoder) share: seeds, the fitted-module
check and the training protocol with early stopping on the prefixes.

``fit`` with ``validation=True`` (the default):

1. the training prefixes are re-split 60/40 (:meth:`lla.Corpus.prefix_corpus`); a fresh module
   trains on the first part and the perplexity of the second part decides early stopping
   (``patience`` epochs without improvement; at most ``n_epochs``);
2. with ``refit=True`` (the default) a fresh module with the same initialisation is then trained
   on the whole prefixes for the number of epochs that was best in step 1; otherwise the
   early-stopped module of step 1 is kept.

``validation=False`` trains on the whole prefixes for ``n_epochs`` epochs.  The suffixes are
never seen.
"""

import numpy as np

from .._threads import torch_threads
from ..base import SHARED_ARRAYS, Model
from ..errors import InputError
from ..nn.state import numpy_to_tensors, tensors_to_numpy


class NeuralBaseline(Model):
    """Base of the baselines whose fitted state is one torch module (``module_``).

    Subclasses implement ``_train(corpus, seed_sequence, n_epochs, *, validate_on, stage) ->
    (module, history, best_epoch)`` and may override ``_prepare(corpus)`` (called once before
    training)."""

    _renamed_parameters = {"lr": "learning_rate"}

    def _fitted_attribute(self):
        return "module_"

    def _trained_vocabulary_size(self):
        return self.module_.n_types

    def _prepare(self, corpus):
        """Hook: per-corpus set-up before any training (e.g. the character vocabulary)."""

    def _extra_state(self):
        """Hook: JSON-able metadata a subclass saves besides the module (e.g. its characters)."""
        return {}

    def _restore_extra_state(self, metadata):
        """Hook: read back what :meth:`_extra_state` saved, before the module is rebuilt."""

    def fit(self, corpus, *, resume=False):
        """Train on the prefixes of ``corpus`` (see the module docstring).  Sets ``module_``,
        ``history_`` (per-epoch statistics of every stage) and ``n_epochs_trained_``.  torch
        runs on ``n_threads`` threads (:mod:`lla._threads`)."""
        self._validate()
        self._refuse_resume(resume)
        with torch_threads(self.n_threads):
            return self._fit(corpus)

    def _fit(self, corpus):
        self._record_corpus(corpus)
        if corpus.n_types < 2 or corpus.n_prefix_tokens == 0:
            raise InputError("the corpus has no training tokens", getattr(corpus, "path", None))
        self._prepare(corpus)
        search_ss, refit_ss = self._seed_sequence().spawn(2)
        self.history_ = []
        if self.validation:
            inner = corpus.prefix_corpus()
            if inner.n_suffix_tokens == 0 or inner.n_prefix_tokens == 0:
                raise InputError("the prefixes are too short to split off a validation part",
                                 getattr(corpus, "path", None))
            module, history, best_epoch = self._train(inner, search_ss, int(self.n_epochs),
                                                      validate_on=inner, stage="validation")
            self.history_ += history
            if self.refit:
                module, history, _ = self._train(corpus, refit_ss, best_epoch,
                                                 validate_on=None, stage="refit")
                self.history_ += history
        else:
            module, history, best_epoch = self._train(corpus, search_ss, int(self.n_epochs),
                                                      validate_on=None, stage="train")
            self.history_ += history
        module.eval()
        self.module_ = module
        self.n_epochs_trained_ = int(best_epoch)
        return self

    def n_parameters(self):
        """``dense`` = every trained weight of the module; ``nonzero`` = 0 (no count
        matrices)."""
        self._check_fitted()
        n = int(self.module_.n_parameters())
        return {"dense": n, "nonzero": 0, "total": n}

    def fit_summary(self):
        return f"best epoch {self.n_epochs_trained_}"

    def convergence(self):
        """(training seconds so far, validation perplexity) after every epoch of the validation
        stage (``validation=True``)."""
        out, seconds = [], 0.0
        for h in getattr(self, "history_", []):
            if h.get("stage") != "validation":
                continue
            seconds += h.get("seconds", 0.0)
            if "valid_perplexity" in h:
                out.append((seconds, h["valid_perplexity"]))
        return out

    def convergence_curve(self, corpus):
        """The validation stage of this model's own fit (the same split of the prefixes as
        :meth:`lla.Model.convergence_curve`); [] when it was trained with ``validation=False``."""
        return self.convergence()

    # -- persistence (subclasses provide ``_build(V, counts, seed)``) ---------------------------
    def _get_state(self):
        meta = {"n_types": self.module_.n_types, "n_epochs_trained": self.n_epochs_trained_,
                "history": self.history_, **self._extra_state()}
        return meta, tensors_to_numpy("", self.module_.state_dict())

    def _set_state(self, metadata, arrays):
        try:
            V = int(metadata["n_types"])
            self._restore_extra_state(metadata)
            module = self._build(V, np.zeros(V), 0)
            weights = {k: v for k, v in arrays.items() if k not in SHARED_ARRAYS}
            module.load_state_dict(numpy_to_tensors("", weights, "cpu"))
            self.history_ = list(metadata.get("history", []))
            self.n_epochs_trained_ = int(metadata.get("n_epochs_trained", 0))
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise InputError(f"saved {self.model_name} model is incomplete or corrupt "
                             f"({str(e).splitlines()[0]})") from None
        module.eval()
        self.module_ = module
