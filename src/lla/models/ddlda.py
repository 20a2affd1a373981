"""Distance-dependent LDA, fixed-window approximation (DESIGN §4): a baseline that knows that
nearby tokens share topics, but has no learned dynamics.

Training: collapsed Gibbs with the window prior of :mod:`lla._kernels.ddlda` (both sides of a
token).  Held-out scoring: the particle filter of DESIGN §3 with the *causal* prior

    θ_t,k = (α + Σ_{1 ≤ δ ≤ W} f(δ) [z_{t−δ} = k]) / (Kα + Σ_{1 ≤ δ ≤ min(W, t−1)} f(δ))

(the distance-dependent CRP read left to right: a token copies the topic of an earlier token
with weight f(distance), or draws from the base measure with weight α), and φ fixed at
(n_wk + β) / (n_k + Vβ) from the final training state.
"""

from dataclasses import replace

import numpy as np
import torch

from .._kernels.ddlda import ddlda_sweep
from .._kernels.rng import seeds_from
from .._memory import array_bytes, check_allocation
from .._progress import progress
from ..base import Model
from ..topics import TopicWordMixin
from ..errors import InputError
from ..inference.counts import topic_word
from ..inference.particle_filter import (DEFAULT_PARTICLES, filter_predictive,
                                         particle_filter_log_prob)
from ..inference.priors import DDPrior, decay_weights
from .. import params
from ..params import Param
from .lda import LDA_PARAMETERS

KERNELS = ("exponential", "window")


class DDLDA(TopicWordMixin, Model):
    """Distance-dependent LDA (fixed-window / decay approximation).

    Parameters
    ----------
    n_topics : K
    alpha : weight of the base measure per topic (α)
    beta : Dirichlet prior of φ (β)
    kernel : "exponential" (f(δ) = exp(−(δ−1)/decay)) or "window" (f = 1)
    width : W, how far (in tokens) the prior looks
    decay : length scale of the exponential kernel
    n_iter : Gibbs sweeps over the training prefixes
    n_particles : S for held-out scoring (DESIGN §3)
    random_state : int or None

    Fitted: ``n_wk_`` int32 (V, K), ``topic_word_`` (K, V) φ, ``z_`` int32 (n_prefix_tokens,).
    """

    model_name = "ddlda"
    _parameters = {
        "n_topics": params.TOPICS,
        "alpha": replace(params.ALPHA, none=False),
        "beta": params.BETA,
        "kernel": Param("str", choices=KERNELS, flag="--kernel",
                        help="ddlda: decay kernel over the previous --width tokens"),
        "width": Param("int", low=1, flag="--width", metavar="W",
                       help="ddlda: how far (tokens) the prior looks"),
        "decay": Param("float", low=0, low_open=True, flag="--decay", metavar="D",
                       help="ddlda: decay length of the exponential kernel"),
        "n_iter": LDA_PARAMETERS["n_iter"],
        "n_particles": params.PARTICLES,
        "random_state": params.SEED,
        "show_progress": params.PROGRESS,
    }

    def __init__(self, n_topics=50, *, alpha=0.1, beta=0.01, kernel="exponential", width=10,
                 decay=3.0, n_iter=200, n_particles=DEFAULT_PARTICLES, random_state=None,
                 show_progress=None):
        self._store_arguments(locals())

    def _seeds(self):
        return self._seed_sequence().spawn(2)  # sampler, scoring

    def fit(self, corpus, *, resume=False):
        """``n_iter`` Gibbs sweeps with the window prior over the training prefixes."""
        self._validate()
        self._refuse_resume(resume)
        self._record_corpus(corpus)
        if corpus.n_prefix_tokens == 0:
            raise InputError("the corpus has no training tokens")
        words, doc_ptr, self.prefix_lengths_ = corpus.prefix_arrays()
        K, V = int(self.n_topics), len(corpus.vocab)
        check_allocation(array_bytes(((V, K), np.int32), ((K, V), np.float64)),
                         f"n_topics={K}: ddLDA's counts n_wk and φ")
        sampler_seed, _ = self._seeds()
        rng_state = seeds_from(sampler_seed, 1)
        z = (np.random.default_rng(sampler_seed.spawn(1)[0]).integers(0, K, words.size)
             .astype(np.int32))
        n_wk = np.zeros((V, K), np.int32)
        np.add.at(n_wk, (words, z), 1)
        n_k = n_wk.sum(axis=0).astype(np.int64)
        weights = decay_weights(self.kernel, int(self.width), float(self.decay))
        bar = progress(range(int(self.n_iter)), desc="ddLDA", unit="sweep",
                       enabled=self.show_progress)
        for _ in bar:
            ddlda_sweep(words, doc_ptr, z, n_wk, n_k, weights, float(self.alpha),
                        float(self.beta), rng_state)
        self.z_ = z
        self.n_wk_ = n_wk
        self._finish()
        return self

    def _finish(self):
        self.topic_word_ = topic_word(self.n_wk_, float(self.beta))   # (K, V)

    def _prior(self, device="cpu"):
        return DDPrior(self.n_topics, self.alpha,
                       decay_weights(self.kernel, int(self.width), float(self.decay)), device)

    def _filter(self, corpus, n_particles, **callbacks):
        self._check_vocabulary(corpus)
        _, scoring_seed = self._seeds()
        generator = torch.Generator().manual_seed(int(scoring_seed.generate_state(1)[0]))
        bar = progress(total=corpus.n_tokens, desc="ddLDA scoring", unit="tok",
                       enabled=self.show_progress)
        try:
            return particle_filter_log_prob(
                self._prior(), self._log_phi_wk(), np.asarray(corpus.tokens),
                corpus.doc_lengths, corpus.prefix_lengths,
                n_particles=int(n_particles or self.n_particles), generator=generator,
                progress=bar, **callbacks)
        finally:
            bar.close()

    def _log_phi_wk(self):
        return torch.log(torch.as_tensor(self.topic_word_.T, dtype=torch.float32))

    def heldout_log_prob(self, corpus, *, n_particles=None):
        """log p̂(w_t | w_<t) for every suffix token by the particle filter (S = ``n_particles``,
        None: the model's)."""
        return self._filter(corpus, n_particles)

    def _predictive(self, corpus, consume, *, n_particles=None, explain=False):
        """The filter's predictive at every held-out position (same run and stream as
        :meth:`heldout_log_prob`); ``explain``: the filtered topic paths of the prefixes."""
        return filter_predictive(lambda c, S, _, **cb: self._filter(c, S, **cb), None, corpus,
                                 consume, self._log_phi_wk(), n_particles=n_particles,
                                 explain=explain)

    def n_parameters(self):
        nnz = int(np.count_nonzero(self.n_wk_))
        return {"dense": 0, "nonzero": nnz, "total": nnz}

    def fit_summary(self):
        return f"{self.n_iter} sweeps"

    def _get_state(self):
        return {}, {"n_wk": self.n_wk_, "z": self.z_, "prefix_lengths": self.prefix_lengths_}

    def _set_state(self, metadata, arrays):
        try:
            self.n_wk_ = np.asarray(arrays["n_wk"], dtype=np.int32)
            self.z_ = np.asarray(arrays["z"], dtype=np.int32)
            self.vocab_types_ = bytes(arrays["vocab_utf8"]).decode("utf-8").split("\n")
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"saved ddLDA model is incomplete or corrupt ({e})") from None
        # files of lla 0.1 lack the prefix lengths (then no empirical transitions)
        self.prefix_lengths_ = np.asarray(arrays["prefix_lengths"], dtype=np.int64) \
            if "prefix_lengths" in arrays else None
        if self.n_wk_.shape != (len(self.vocab_types_), int(self.n_topics)):
            raise InputError("saved ddLDA model has inconsistent array shapes")
        self._finish()
