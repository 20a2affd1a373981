"""Distance-dependent LDA, fixed-window approximation (DESIGN §4): a baseline that knows that
nearby tokens share topics, but has no learned dynamics.

Training: collapsed Gibbs with the window prior of :mod:`lla._kernels.ddlda` (both sides of a
token).  Held-out scoring: the particle filter of DESIGN §3 with the *causal* prior

    θ_t,k = (α + Σ_{1 ≤ δ ≤ W} f(δ) [z_{t−δ} = k]) / (Kα + Σ_{1 ≤ δ ≤ min(W, t−1)} f(δ))

(the distance-dependent CRP read left to right: a token copies the topic of an earlier token
with weight f(distance), or draws from the base measure with weight α), and φ fixed at
(n_wk + β) / (n_k + Vβ) from the final training state.
"""

import numpy as np
import torch

from .._kernels.ddlda import ddlda_sweep
from .._kernels.rng import seeds_from
from .._progress import progress
from ..base import Model, TopicWordMixin
from ..errors import InputError, ParameterError

KERNELS = ("exponential", "window")


def decay_weights(kernel, width, decay):
    """f(δ) for δ = 0..W as float64 (W+1,), ``f[0] = 0`` (unused): ``exponential`` is
    exp(−(δ−1)/decay), ``window`` is 1."""
    delta = np.arange(width + 1, dtype=np.float64)
    f = np.exp(-(delta - 1) / decay) if kernel == "exponential" else np.ones(width + 1)
    f[0] = 0.0
    return f


class DDPrior:
    """The causal window prior as a particle-filter prior (protocol of
    :mod:`lla.inference.priors`).  State: int64 (R, W), the last W topics, most recent last,
    −1 before the document starts."""

    def __init__(self, n_topics, alpha, weights, device="cpu"):
        self.n_topics = int(n_topics)
        self.alpha = float(alpha)
        self.device = torch.device(device)
        W = len(weights) - 1
        # column j of the state holds z_{t-(W-j)}: weight f(W - j)
        self.column_weights = torch.as_tensor(np.asarray(weights)[W - np.arange(W)],
                                              dtype=torch.float64, device=self.device)
        self.width = W

    def initial_state(self, n_rows):
        return torch.full((n_rows, self.width), -1, dtype=torch.int64, device=self.device)

    def reset(self, state, mask):
        return torch.where(mask[:, None], torch.full_like(state, -1), state)

    def theta(self, state):
        """θ_t float64 (R, K) of every row."""
        valid = state >= 0
        weights = torch.where(valid, self.column_weights, torch.zeros((), dtype=torch.float64,
                                                                      device=self.device))
        theta = torch.full((state.shape[0], self.n_topics), self.alpha, dtype=torch.float64,
                           device=self.device)
        theta.scatter_add_(1, state.clamp(min=0), weights.expand_as(state).contiguous())
        return theta / theta.sum(dim=1, keepdim=True)

    def log_theta(self, state):
        return torch.log(self.theta(state)).to(torch.float32)

    def advance(self, state, z):
        return torch.cat([state[:, 1:], z[:, None].to(torch.int64)], dim=1)

    def select(self, state, index):
        return state[index]

    def theta_of_history(self, history):
        """θ_t (K,) float64 after a 1-d topic history (reference for tests)."""
        state = self.initial_state(1)
        for k in history:
            state = self.advance(state, torch.tensor([int(k)]))
        return self.theta(state)[0].numpy()


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

    def __init__(self, n_topics, *, alpha=0.1, beta=0.01, kernel="exponential", width=10,
                 decay=3.0, n_iter=100, n_particles=16, random_state=None):
        self.n_topics = n_topics
        self.alpha = alpha
        self.beta = beta
        self.kernel = kernel
        self.width = width
        self.decay = decay
        self.n_iter = n_iter
        self.n_particles = n_particles
        self.random_state = random_state

    def _validate(self):
        if not (isinstance(self.n_topics, (int, np.integer)) and self.n_topics >= 1):
            raise ParameterError(f"n_topics must be an integer >= 1, got {self.n_topics!r}")
        if not self.alpha > 0 or not self.beta > 0:
            raise ParameterError(f"alpha and beta must be > 0, got {self.alpha}, {self.beta}")
        if self.kernel not in KERNELS:
            raise ParameterError(f"kernel must be one of {', '.join(KERNELS)}, got {self.kernel!r}")
        if not (isinstance(self.width, (int, np.integer)) and self.width >= 1):
            raise ParameterError(f"width must be an integer >= 1, got {self.width!r}")
        if not self.decay > 0:
            raise ParameterError(f"decay must be > 0, got {self.decay}")
        if self.n_iter < 1 or self.n_particles < 1:
            raise ParameterError("n_iter and n_particles must be >= 1")

    def _seeds(self):
        return np.random.SeedSequence(self.random_state).spawn(2)  # sampler, scoring

    def fit(self, corpus, *, show_progress=None):
        self._validate()
        self._record_corpus(corpus)
        if corpus.n_prefix_tokens == 0:
            raise InputError("the corpus has no training tokens")
        words = np.concatenate([np.asarray(corpus.prefix(d)) for d in range(len(corpus))])
        words = words.astype(np.int32)
        doc_ptr = np.zeros(len(corpus) + 1, np.int64)
        np.cumsum(corpus.prefix_lengths, out=doc_ptr[1:])
        K, V = int(self.n_topics), len(corpus.vocab)
        sampler_seed, _ = self._seeds()
        rng_state = seeds_from(sampler_seed, 1)
        z = (np.random.default_rng(sampler_seed.spawn(1)[0]).integers(0, K, words.size)
             .astype(np.int32))
        n_wk = np.zeros((V, K), np.int32)
        np.add.at(n_wk, (words, z), 1)
        n_k = n_wk.sum(axis=0).astype(np.int64)
        weights = decay_weights(self.kernel, int(self.width), float(self.decay))
        bar = progress(range(int(self.n_iter)), desc="ddLDA", unit="sweep", enabled=show_progress)
        for _ in bar:
            ddlda_sweep(words, doc_ptr, z, n_wk, n_k, weights, float(self.alpha),
                        float(self.beta), rng_state)
        self.z_ = z
        self.n_wk_ = n_wk
        self.vocab_types_ = list(corpus.vocab.types)
        self._finish()
        return self

    def _finish(self):
        n_k = self.n_wk_.sum(axis=0)
        V = self.n_wk_.shape[0]
        self.topic_word_ = ((self.n_wk_ + self.beta) / (n_k + V * self.beta)).T  # (K, V)

    def _prior(self, device="cpu"):
        return DDPrior(self.n_topics, self.alpha,
                       decay_weights(self.kernel, int(self.width), float(self.decay)), device)

    def _filter(self, corpus, n_particles, show_progress, return_ranks=False):
        from ..inference.particle_filter import particle_filter_log_prob
        self._check_fitted()
        self._check_vocab(corpus)
        _, scoring_seed = self._seeds()
        generator = torch.Generator().manual_seed(int(scoring_seed.generate_state(1)[0]))
        log_phi_t = torch.log(torch.as_tensor(self.topic_word_.T, dtype=torch.float32))
        bar = progress(total=corpus.n_tokens, desc="ddLDA scoring", unit="tok",
                       enabled=show_progress)
        try:
            return particle_filter_log_prob(
                self._prior(), log_phi_t, np.asarray(corpus.tokens), corpus.doc_lengths,
                corpus.prefix_lengths, n_particles=int(n_particles or self.n_particles),
                generator=generator, progress=bar, return_ranks=return_ranks)
        finally:
            bar.close()

    def heldout_log_prob(self, corpus, n_particles=None, show_progress=None):
        """log p̂(w_t | w_<t) for every suffix token by the particle filter (S particles)."""
        return self._filter(corpus, n_particles, show_progress)

    def heldout_ranks(self, corpus, n_particles=None, show_progress=None):
        """Rank (1 = first) of every suffix token among all V types under the filter's
        predictive (same run and stream as :meth:`heldout_log_prob`)."""
        return self._filter(corpus, n_particles, show_progress, return_ranks=True)[1]

    def n_parameters(self):
        nnz = int(np.count_nonzero(self.n_wk_))
        return {"dense": 0, "nonzero": nnz, "total": nnz}

    def _get_state(self):
        vocab = "\n".join(self.vocab_types_).encode("utf-8")
        return {}, {"n_wk": self.n_wk_, "z": self.z_,
                    "vocab_utf8": np.frombuffer(vocab, dtype=np.uint8)}

    def _set_state(self, metadata, arrays):
        self.n_wk_ = arrays["n_wk"]
        self.z_ = arrays["z"]
        self.vocab_types_ = bytes(arrays["vocab_utf8"]).decode("utf-8").split("\n")
        self._finish()
