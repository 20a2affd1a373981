"""Topic-LLA: Latent LSTM Allocation whose LSTM reads the previous *topic* (DESIGN §1, §2, §3).

    φ_k ~ Dir(β);  for every document: s_t = LSTM(emb(z_{t-1}), s_{t-1}),
    θ_t = softmax(W_p s_t + b_p),  z_t ~ θ_t,  w_t ~ φ_{z_t}

Training (:meth:`TopicLLA.fit`) is stochastic EM on the training prefixes:

1. ``init_lda_iter`` sweeps of collapsed-Gibbs :class:`lla.LDA` give z; an LSTM is fitted on
   them for ``init_lstm_epochs`` (iteration 0 = the "independent learner" of the paper);
2. iterations 1..``n_iter``: SE-step (:mod:`lla.inference.se_step`, all documents batched,
   sequential in t), then M-step (counts → φ; ``lstm_epochs_per_iter`` epochs of Adam on the
   sampled z).

Scoring (:meth:`heldout_log_prob`) runs the particle filter of :mod:`lla.inference.particle_filter`
through whole documents and returns log p(w_t | w_<t) of the suffix tokens.

The shared machinery (LDA start, SEM loop, checkpoints, early stopping, save/load) lives in
:class:`lla.models._lla_base.LLABase`; this module adds the topic encoder's defaults and the
particle-filter scoring.

Randomness: one ``random_state`` → a SeedSequence; iteration i of SEM uses streams derived from
(seed, i), scoring and validation use their own streams.  Hence the same seed gives the same
model on the CPU (and ``resume`` continues exactly where an uninterrupted run would be); CUDA
draws from different generators and its kernels are not bit-reproducible, so runs on a GPU are
reproducible only statistically.  The LDA initialisation reproduces for a fixed ``n_threads``.
"""

import numpy as np

from .._progress import progress
from ..inference.particle_filter import DEFAULT_PARTICLES, particle_filter_log_prob
from ..inference.schedule import auto_slots
from ..inference.smoother import smoother_se_step_fn
from .. import params
from ..params import Param
from ._lla_base import _SCORE, _VALID, LLA_PARAMETERS, LLABase

#: topic-LLA's own hyper-parameters, beside those of every LLA variant
TOPIC_LLA_PARAMETERS = {
    **LLA_PARAMETERS,
    "validation_particles": Param("int", low=1, resumable=True,
                                  help="S of the validation particle filter"),
    "se_sampler": Param("str", choices=("forward", "smoother"), flag="--se-sampler",
                        help="topic-lla SE-step: forward (the paper's) or smoother (whole "
                             "paths from a particle smoother)"),
    "se_particles": Param("int", low=1, help="S of the smoother SE-step"),
    "n_particles": params.PARTICLES,
}


class TopicLLA(LLABase):
    """Topic-LLA trained by stochastic EM, scored by a particle filter.

    Parameters
    ----------
    n_topics : K
    embedding_size : E, size of the topic embedding (the K×E input table)
    hidden_size : H, LSTM state size
    alpha : α of the LDA initialisation (None: LDA's default 0.1)
    beta : β, the topic-word prior: φ_{k,w} = (n_wk + β) / (n_k + Vβ)
    n_iter : SEM iterations after the initialisation
    init_lda_iter : collapsed-Gibbs sweeps of the LDA start (a well-converged start, ~200
        sweeps, was far better than 30 in DESIGN §2's measurements)
    init_lstm_epochs : epochs of the LSTM on LDA's assignments (the independent learner)
    lstm_epochs_per_iter : epochs of the LSTM in every M-step
    batch_size : documents per LSTM minibatch
    bptt : truncated-BPTT window (steps); the state is carried across windows
    learning_rate, weight_decay : AdamW
    dropout : on the LSTM input and output during training
    early_stopping : if True, ``fit`` trains on ``corpus.prefix_corpus()`` (the first 60 % of
        every prefix) and scores its suffixes (the rest of every prefix) with the particle filter
        every ``validation_every`` iterations (iteration 0 included), stops after ``patience``
        evaluations without improvement and keeps the best iteration.  The benchmark suffixes
        are never looked at.  Pass ``validation=`` to ``fit`` to validate on another corpus
        instead (then training uses the full prefixes).
    validation_particles : S of the validation particle filter
    n_slots : documents processed side by side in the SE-step (continuous batching; None:
        about total tokens / longest document)
    se_sampler : "forward" (the paper's SE-step: z_t ~ θ_t φ_{w_t} token by token) or
        "smoother" (every document's whole path drawn from a particle smoother's approximation
        of p(z | w), :mod:`lla.inference.smoother`; uses the words after t, ``se_particles``
        × the cost)
    se_particles : S of the "smoother" SE-step
    n_particles : S of held-out scoring by the particle filter (``heldout_log_prob``,
        ``heldout_ranks``, ``transform``), unless those are given another
    n_threads : threads of torch and of the LDA initialisation (whose result depends on this
        number; :mod:`lla._threads`)
    device : "cpu", "cuda", "cuda:1", ...  (tensors stay there; LDA runs on the CPU)
    checkpoint_dir : write the model there (atomically) after every finished iteration; a
        directory ``lla.load_model`` opens.  ``fit(..., resume=True)`` continues from it.
    random_state : int, SeedSequence or None
    show_progress : progress bars (None: only on a terminal)

    Fitted attributes
    -----------------
    topic_word_ : float64 (K, V), φ
    n_wk_ : int32 (V, K), topic counts of the last SE-step
    z_ : int32 (N,), topic of every training token (documents in order)
    dynamics_ : lla.nn.dynamics.Dynamics, the LSTM (θ_t)
    history_ : list of dicts, one per finished iteration (0 = initialisation)
    n_iter_done_ : SEM iterations finished
    best_iteration_ : the iteration with the best validation perplexity, kept with
        ``early_stopping`` (None without validation)
    """

    model_name = "topic-lla"
    _parameters = TOPIC_LLA_PARAMETERS

    def __init__(self, n_topics=50, *, embedding_size=128, hidden_size=128, alpha=None,
                 beta=0.01, n_iter=10, init_lda_iter=200, init_lstm_epochs=10,
                 lstm_epochs_per_iter=2, batch_size=32, bptt=64, learning_rate=1e-3,
                 weight_decay=1e-4, dropout=0.2, early_stopping=False, patience=2,
                 validation_every=1, validation_particles=DEFAULT_PARTICLES, n_slots=None,
                 se_sampler="forward", se_particles=16, n_particles=DEFAULT_PARTICLES,
                 n_threads=None, device="cpu", checkpoint_dir=None, random_state=None,
                 show_progress=None):
        self._store_arguments(locals())

    # -- hooks of LLABase: the default encoder (K×E topic table), sequential SE-step, z as the
    # LSTM input; validation by the particle filter
    def _validation_log_prob(self, corpus):
        return self._score(corpus, int(self.validation_particles), (_VALID,))

    def _se_step_fn(self):
        if self.se_sampler == "smoother":
            return smoother_se_step_fn(int(self.se_particles))
        return super()._se_step_fn()

    def get_params(self):
        params = super().get_params()
        if params.get("se_sampler", "forward") == "forward":
            # the paper's SE-step: saved exactly as before the option existed
            params.pop("se_sampler", None)
            params.pop("se_particles", None)
        return params

    # -- scoring ------------------------------------------------------------------------------
    def _score(self, corpus, n_particles, stream_key, return_doc_topic=False,
               return_ranks=False):
        S = int(n_particles or self.n_particles)

        def score(tokens, lengths, prefix_lengths):  # all documents, or this rank's
            slots = max(1, auto_slots(lengths, cap=max(1, 4096 // S), floor=1))
            bar = progress(total=int(lengths.sum()), desc=f"particle filter S={S}", unit="tok",
                           enabled=self.show_progress)
            try:
                return particle_filter_log_prob(
                    self.dynamics_.stepper(), self._log_phi_wk(), tokens, lengths,
                    prefix_lengths, n_particles=S,
                    generator=self._scoring_generator(*stream_key), n_slots=slots,
                    progress=bar, return_doc_topic=return_doc_topic, return_ranks=return_ranks)
            finally:
                bar.close()

        return self._sharded(score, corpus.tokens, corpus.doc_lengths, corpus.prefix_lengths)

    def heldout_log_prob(self, corpus, *, n_particles=None):
        """log p̂(w_t | w_<t) (natural log) of every suffix token, documents in order, by the
        particle filter with ``n_particles`` (S; None: the model's ``n_particles``) particles
        through each whole document (DESIGN §3).  Deterministic: the filter uses the model's
        own scoring stream."""
        self._check_fitted()
        self._check_vocab(corpus)
        return self._score(corpus, n_particles, (_SCORE,))

    def heldout_ranks(self, corpus, *, n_particles=None):
        """Rank (1 = first) of every suffix token among all V types under the particle filter's
        predictive p̂(v | w_<t) = Σ_s W_s θ^s_t · φ_v — the same filter run, with the same
        stream, as :meth:`heldout_log_prob` (HR@10 and MRR on user data)."""
        self._check_fitted()
        self._check_vocab(corpus)
        return self._score(corpus, n_particles, (_SCORE,), return_ranks=True)[1]

    def transform(self, corpus, *, n_particles=None):
        """Topic proportions of every document's prefix, (D, K) float64: the expected topic
        counts under the filtered posterior p(z_t | w_≤t), normalised (uniform for an empty
        prefix)."""
        self._check_fitted()
        self._check_vocab(corpus)
        _, doc_topic = self._score(corpus, n_particles, (_SCORE,), return_doc_topic=True)
        totals = doc_topic.sum(axis=1, keepdims=True)
        K = doc_topic.shape[1]
        return np.where(totals > 0, doc_topic / np.maximum(totals, 1e-300), 1.0 / K)

    # -- interpretation ----------------------------------------------------------------------
    def topic_embedding(self):
        """The K×E input table (DESIGN §5), float32 numpy."""
        self._check_fitted()
        return self.dynamics_.encoder.weight.detach().cpu().numpy()
