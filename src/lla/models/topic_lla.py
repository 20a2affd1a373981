"""Topic-LLA: Latent LSTM Allocation whose LSTM reads the previous *topic* (DESIGN §1, §2, §3).

    φ_k ~ Dir(β);  for every document: s_t = LSTM(emb(z_{t-1}), s_{t-1}),
    θ_t = softmax(W_p s_t + b_p),  z_t ~ θ_t,  w_t ~ φ_{z_t}

Training (:meth:`TopicLLA.fit`) is stochastic EM on the training prefixes:

1. ``init_lda_iter`` sweeps of collapsed-Gibbs :class:`lla.LDA` give z; an LSTM is fitted on
   them for ``init_lstm_epochs`` (iteration 0 = the "independent learner" of the paper);
2. iterations 1..``n_iter``: SE-step (all documents batched, sequential in t; the sampler is
   ``se_sampler``: :mod:`lla.inference.se_step` by default, or :mod:`~lla.inference.mh_step`,
   :mod:`~lla.inference.smoother`, :mod:`~lla.inference.beam`), then M-step (counts → φ;
   ``lstm_epochs_per_iter`` epochs of Adam on the sampled z).

Scoring (:meth:`heldout_log_prob`) runs the particle filter of :mod:`lla.inference.particle_filter`
through whole documents and returns log p(w_t | w_<t) of the suffix tokens.

The shared machinery (LDA start, SEM loop, checkpoints, early stopping, save/load) lives in
:class:`lla.models._lla_base.LLABase`; this module adds the topic encoder's defaults and the
particle-filter scoring.

Randomness: one ``random_state`` → a SeedSequence; iteration i of SEM uses streams derived from
(seed, i), scoring and validation use their own streams.  Hence the same seed and the same
``n_threads`` give the same model on the CPU (and ``resume`` continues exactly where an
uninterrupted run would be); the LDA initialisation's shards, and the summation order of
multi-threaded torch kernels, depend on ``n_threads``.  CUDA draws from different generators and
its kernels are not bit-reproducible, so runs on a GPU are reproducible only statistically.
"""

import numpy as np

from .._progress import progress
from ..inference.particle_filter import (DEFAULT_PARTICLES, filter_predictive,
                                         particle_filter_log_prob)
from ..inference.schedule import auto_slots
from ..inference.beam import beam_se_step_fn
from ..inference.mh_step import mh_se_step_fn
from ..inference.smoother import smoother_se_step_fn
from .. import params
from ..params import Param
from ._lla_base import _SCORE, _VALID, LLA_PARAMETERS, LLABase

#: K from which ``se_sampler="auto"`` uses the MH SE-step on the CPU (measured: docs/topic_lla.md)
AUTO_MH_MIN_TOPICS = 500

#: the hyper-parameters that only a given SE-step sampler reads (saved only with it)
_SAMPLER_PARAMETERS = {"smoother": ("se_particles",), "mh": ("mh_steps", "mh_head"),
                       "auto": ("mh_steps", "mh_head"), "beam": ("beam_width",)}

#: topic-LLA's own hyper-parameters, beside those of every LLA variant
TOPIC_LLA_PARAMETERS = {
    **LLA_PARAMETERS,
    "validation_particles": Param("int", low=1, resumable=True,
                                  help="S of the validation particle filter"),
    "se_sampler": Param("str", choices=("forward", "smoother", "mh", "beam", "auto"),
                        flag="--se-sampler", compare_flag="--se-sampler",
                        help="topic-lla SE-step: forward (the paper's, K-way), mh "
                             "(Metropolis-Hastings, for large K), auto (mh from K = "
                             f"{AUTO_MH_MIN_TOPICS} on the CPU, else forward), smoother "
                             "(paths from a particle smoother) or beam (paths from a "
                             "sampled beam search)"),
    "se_particles": Param("int", low=1, help="S of the smoother SE-step"),
    "mh_steps": Param("int", low=1, flag="--mh-steps", compare_flag="--mh-steps",
                      metavar="M", help="topic-lla mh SE-step: (document, word) proposal "
                                        "pairs per token"),
    "mh_head": Param("int", low=0, flag="--mh-head", compare_flag="--mh-head", metavar="J",
                     help="topic-lla mh SE-step: a word's topics (most frequent first) whose "
                          "proposal is weighted by θ_t; the rest are proposed from φ alone"),
    "beam_width": Param("int", low=1, flag="--beam-width", compare_flag="--beam-width",
                        metavar="B", help="topic-lla beam SE-step: paths kept per document"),
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
    n_average : after the last iteration (the kept one with ``early_stopping``), φ is made from
        the topic counts averaged over ``n_average`` further SE-steps with the LSTM fixed, each
        against φ of the previous step's counts — the SEM chain's single sample of z is a noisy
        estimate of n_wk, as LDA's last sweep is (LDA averages its last sweeps).  0: φ of the
        last SE-step's counts.  Costs ``n_average`` SE-steps (no LSTM epochs); the averaged
        counts' support is the union of the steps' (``n_parameters``)
    online_blocks : B of online SEM: every pass over the corpus splits the documents into B
        random blocks (a new partition per pass) and each SEM iteration runs the SE-step and
        the M-step on one block — the SE-step against φ of all current counts, the LSTM's
        ``lstm_epochs_per_iter`` epochs on the block's documents; the others keep their z.  B
        iterations cost about one full iteration and update φ and the LSTM B times
        (``n_iter`` counts iterations, so ``n_iter`` / B passes).  1: every iteration visits
        every document (the paper's SEM)
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
    se_sampler : the SE-step (docs/topic_lla.md, "SE-step samplers"):

        * "forward" — the paper's SE-step: z_t ~ π_t ∝ θ_t φ_{w_t} token by token, all K
          logits and a K-way softmax per token (:mod:`lla.inference.se_step`);
        * "mh" — the same conditional π_t by a short Metropolis–Hastings chain that needs the
          logits of the proposed topics only (:mod:`lla.inference.mh_step`): faster for large
          K, approximate after ``mh_steps`` steps (exact as they grow);
        * "auto" — "mh" on the CPU from K = ``AUTO_MH_MIN_TOPICS`` (500), else "forward";
        * "smoother" — every document's whole path from a particle smoother's approximation
          of p(z | w) (:mod:`lla.inference.smoother`; uses the words after t,
          ``se_particles`` × the cost);
        * "beam" — every document's path drawn from a beam of ``beam_width`` paths that keeps
          the most probable candidates and samples the others without replacement, unbiasedly
          (:mod:`lla.inference.beam`; the forward step at B = 1, the exact posterior p(z | w)
          as B grows; ``beam_width`` × the cost)
    se_particles : S of the "smoother" SE-step
    mh_steps : (document proposal, word proposal) pairs per token of the "mh" SE-step
    mh_head : J of the "mh" SE-step: the word proposal weights a word's J most frequent topics
        by θ_t (J logits per token) and proposes its other topics from φ alone
    beam_width : B of the "beam" SE-step
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
    topic_word_ : float64 (K, V), φ (of ``n_wk_mean_`` when averaged, else of ``n_wk_``)
    n_wk_ : int32 (V, K), topic counts of the SEM chain's last SE-step
    n_wk_mean_ : float32 (V, K), the counts averaged over ``n_averaged_`` SE-steps after
        training (None when ``n_average`` = 0 or training was interrupted before them)
    n_averaged_ : int, how many SE-steps ``n_wk_mean_`` averages
    z_ : int32 (N,), topic of every training token (documents in order)
    dynamics_ : lla.nn.dynamics.Dynamics, the LSTM (θ_t)
    history_ : list of dicts, one per finished iteration (0 = initialisation), and a last one
        with ``"averaged"`` (the SE-steps averaged, their seconds and, with validation, the
        averaged model's validation perplexity)
    n_iter_done_ : SEM iterations finished
    best_iteration_ : the iteration with the best validation perplexity, kept with
        ``early_stopping`` (None without validation)
    """

    model_name = "topic-lla"
    _parameters = TOPIC_LLA_PARAMETERS
    transition_kinds = ("empirical", "lstm")

    def __init__(self, n_topics=50, *, embedding_size=128, hidden_size=128, alpha=None,
                 beta=0.01, n_iter=20, n_average=10, online_blocks=1, init_lda_iter=200,
                 init_lstm_epochs=10, lstm_epochs_per_iter=2, batch_size=32, bptt=64,
                 learning_rate=1e-3,
                 weight_decay=1e-4, dropout=0.2, early_stopping=False, patience=2,
                 validation_every=1, validation_particles=DEFAULT_PARTICLES, n_slots=None,
                 se_sampler="forward", se_particles=16, mh_steps=2, mh_head=64,
                 beam_width=4, n_particles=DEFAULT_PARTICLES,
                 n_threads=None, device="cpu", checkpoint_dir=None, random_state=None,
                 show_progress=None):
        self._store_arguments(locals())

    # -- hooks of LLABase: the default encoder (K×E topic table), sequential SE-step, z as the
    # LSTM input; validation by the particle filter
    def _validation_log_prob(self, corpus):
        return self._score(corpus, int(self.validation_particles), (_VALID,))

    def se_sampler_used(self):
        """The SE-step sampler that runs: ``se_sampler`` with "auto" resolved by K and device."""
        if self.se_sampler != "auto":
            return self.se_sampler
        cpu = self._torch_device().type == "cpu"
        return "mh" if cpu and int(self.n_topics) >= AUTO_MH_MIN_TOPICS else "forward"

    def _se_step_fn(self):
        sampler = self.se_sampler_used()
        if sampler == "smoother":
            return smoother_se_step_fn(int(self.se_particles))
        if sampler == "mh":
            return mh_se_step_fn(int(self.mh_steps), int(self.mh_head))
        if sampler == "beam":
            return beam_se_step_fn(int(self.beam_width))
        return super()._se_step_fn()

    def get_params(self):
        params = super().get_params()
        sampler = params.get("se_sampler", "forward")
        used = _SAMPLER_PARAMETERS.get(sampler, ())
        for names in _SAMPLER_PARAMETERS.values():
            for name in names:
                if name not in used:
                    params.pop(name, None)
        if sampler == "forward":
            # the paper's SE-step: saved exactly as before the option existed
            params.pop("se_sampler", None)
        return params

    # -- scoring ------------------------------------------------------------------------------
    def _score(self, corpus, n_particles, stream_key, **callbacks):
        """The particle filter through ``corpus``'s whole documents (DESIGN §3) with the model's
        scoring stream ``stream_key``; ``callbacks``: ``return_doc_topic``, ``on_predictive``,
        ``on_filtered`` of :func:`lla.inference.particle_filter.particle_filter_log_prob`.
        Under several processes each rank filters its own documents and the log-probabilities
        are gathered — except for the predictive and filtered callbacks (next-item ranks,
        predictions, explanations), whose consumers index the whole corpus: there every rank
        runs every document."""
        S = int(n_particles or self.n_particles)

        def score(tokens, lengths, prefix_lengths, generator):
            slots = max(1, auto_slots(lengths, cap=max(1, 4096 // S), floor=1))
            bar = progress(total=int(lengths.sum()), desc=f"particle filter S={S}", unit="tok",
                           enabled=self.show_progress)
            try:
                return particle_filter_log_prob(
                    self.dynamics_.stepper(), self._log_phi_wk(), tokens, lengths,
                    prefix_lengths, n_particles=S, generator=generator, n_slots=slots,
                    progress=bar, **callbacks)
            finally:
                bar.close()

        if callbacks.get("on_predictive") or callbacks.get("on_filtered"):
            return score(np.asarray(corpus.tokens),
                         np.asarray(corpus.doc_lengths, dtype=np.int64),
                         np.asarray(corpus.prefix_lengths, dtype=np.int64),
                         self._torch_generator(*stream_key))
        return self._sharded(lambda t, n, p: score(t, n, p, self._scoring_generator(*stream_key)),
                             corpus.tokens, corpus.doc_lengths, corpus.prefix_lengths)

    def heldout_log_prob(self, corpus, *, n_particles=None):
        """log p̂(w_t | w_<t) (natural log) of every suffix token, documents in order, by the
        particle filter with ``n_particles`` (S; None: the model's ``n_particles``) particles
        through each whole document (DESIGN §3).  Deterministic: the filter uses the model's
        own scoring stream."""
        self._check_vocabulary(corpus)
        return self._score(corpus, n_particles, (_SCORE,))

    def _predictive(self, corpus, consume, *, n_particles=None, explain=False):
        """The filter's predictive p̂(v | w_<t) = Σ_s W_s θ^s_t · φ_v at every held-out position —
        the same filter run, with the same stream, as :meth:`heldout_log_prob`; ``explain``: the
        filtered topic path of every prefix, argmax_k p(z_t = k | w_≤t), from the same run."""
        self._check_vocabulary(corpus)
        return filter_predictive(self._score, (_SCORE,), corpus, consume, self._log_phi_wk(),
                                 n_particles=n_particles, explain=explain)

    def transform(self, corpus, *, n_particles=None):
        """Topic proportions of every document's prefix, (D, K) float64: the expected topic
        counts under the filtered posterior p(z_t | w_≤t), normalised (uniform for an empty
        prefix)."""
        self._check_fitted()
        self._check_vocabulary(corpus)
        _, doc_topic = self._score(corpus, n_particles, (_SCORE,), return_doc_topic=True)
        totals = doc_topic.sum(axis=1, keepdims=True)
        K = doc_topic.shape[1]
        return np.where(totals > 0, doc_topic / np.maximum(totals, 1e-300), 1.0 / K)

    # -- interpretation ----------------------------------------------------------------------
    def transition_matrix(self, kind="empirical"):
        """P(z_{t+1} = j | z_t = i), float (K, K): ``"empirical"`` from the sampled topics of the
        training prefixes (see :class:`lla.topics.TopicWordMixin`), or ``"lstm"``: the LSTM's own
        one-step response — θ after reading x_0 and then topic i, i.e. what the network
        predicts after a document's first topic, whatever the words."""
        if kind != "lstm":
            return super().transition_matrix(kind)
        self._check_fitted()
        import torch
        K = int(self.n_topics)
        stepper = self.dynamics_.stepper()
        with torch.no_grad():
            state = stepper.advance(stepper.initial_state(K),
                                    torch.arange(K, device=self.dynamics_.device))
            return torch.exp(stepper.log_theta(state)).double().cpu().numpy()

    def topic_embedding(self):
        """The K×E input table (DESIGN §5), float32 numpy."""
        self._check_fitted()
        return self.dynamics_.encoder.weight.detach().cpu().numpy()
