"""Latent Dirichlet Allocation by collapsed Gibbs sampling (DESIGN §2, §3, §4).

LDA is the first baseline and the initialiser of LLA: :class:`LDA` trains on every document's
training prefix, keeps the final topic assignments ``z_`` (aligned with the prefix tokens) and
the counts ``n_wk_`` / ``n_dk_`` that LLA starts from, and scores held-out suffixes by document
completion.  The sampler lives in :mod:`lla._kernels.gibbs`; the choice of algorithm is
explained there and in ``docs/lda.md``.
"""

import logging
import time

import numpy as np

from .. import distributed
from .._memory import array_bytes, check_allocation
from .._progress import progress
from .._threads import numba_steps, numba_thread_count
from ..base import Model
from ..topics import TopicWordMixin
from ..errors import InputError, NotFittedError, ParameterError
from ..evaluation.perplexity import perplexity
from ..inference.counts import topic_word
from .. import params
from ..params import Param

log = logging.getLogger(__name__)

DEFAULT_ALPHA = 0.1
#: K at or below which ``sampler="auto"`` uses the exact dense sampler (measured, docs/lda.md)
AUTO_EXACT_MAX_K = 1000

#: LDA's hyper-parameters (DESIGN §6); the defaults are the constructor's
LDA_PARAMETERS = {
    "n_topics": params.TOPICS,
    "alpha": params.ALPHA,
    "beta": params.BETA,
    "n_iter": Param("int", low=1, flag="--iterations", compare_flag="--lda-iterations",
                    metavar="N", help="Gibbs sweeps over the training prefixes"),
    "n_average": Param("int", low=0, flag="--average", metavar="N",
                       help="lda: θ and φ averaged over the last N sweeps"),
    "sampler": Param("str", choices=("auto", "exact", "mh"), flag="--sampler",
                     help="lda: exact (dense), mh (Metropolis-Hastings, O(1)) or auto (by K)"),
    "mh_steps": Param("int", low=1, help="proposal pairs per token of the mh sampler"),
    "n_threads": params.THREADS,
    "random_state": params.SEED,
    "fold_in_iter": Param("int", low=1, help="fold-in sweeps for documents not trained on"),
    "evaluate_every": Param("int", low=1,
                            help="sweeps between evaluations of the training likelihood"),
    "show_progress": params.PROGRESS,
}


class LDA(TopicWordMixin, Model):
    """LDA, θ_d ~ Dir(α), φ_k ~ Dir(β), fitted by collapsed Gibbs sampling on the prefixes.

    Parameters
    ----------
    n_topics : int, K ≥ 1.
    alpha : float > 0 or None.  Symmetric document-topic prior α; ``None`` means 0.1 (the value
        of the benchmarks and tomotopy's default; with long documents it is also better than
        Griffiths & Steyvers' 50/K for document completion).
    beta : float > 0.  Symmetric topic-word prior β.
    n_iter : int ≥ 1.  Gibbs sweeps over all training tokens.
    n_average : int ≥ 0.  θ and φ are averaged over the last ``n_average`` sweeps (0: last
        sweep only).  ``n_wk_``, ``n_dk_`` and ``z_`` are always the last sweep's state.
    sampler : "auto", "exact" or "mh".  "exact": dense collapsed Gibbs (float32), O(K) per token;
        "mh": Metropolis–Hastings with O(1) word/document proposals (LightLDA/WarpLDA);
        "auto": exact for K ≤ 1000, else mh.
    mh_steps : int ≥ 1.  Word+document proposal pairs per token for ``sampler="mh"``.
    n_threads : int ≥ 1 or None (all numba threads).  Number of AD-LDA document shards, each
        sampled by one thread against the sweep-start counts; the counts are merged after every
        sweep.  Results depend on ``n_threads`` (not on the machine): the same seed and the
        same ``n_threads`` reproduce the model bit for bit; ``n_threads=1`` is exact
        sequential collapsed Gibbs.  Under several processes (``torchrun``,
        :mod:`lla.distributed`) every process sweeps its own block of documents on
        ``n_threads`` shards and the count deltas are summed over the processes after every
        sweep (AD-LDA across processes); the result then depends on the number of processes
        and on ``n_threads``, and is reproduced for the same pair.
    random_state : int, numpy SeedSequence or None.  The one source of randomness: spawned into
        independent streams for initialisation, the per-shard samplers and inference (fold-in).
    fold_in_iter : int ≥ 1.  Fold-in sweeps for documents not trained on (``transform`` and
        scoring a corpus other than the training corpus); θ is averaged over the second half.
    evaluate_every : int ≥ 1.  Compute the training log-likelihood every this many sweeps
        (and after the last one); it costs about one sweep at large K.
    show_progress : bool or None.  Progress bar per sweep (None: only on a terminal).

    Fitted attributes (D documents, K topics, V types, N training tokens)
    -------------------------------------------------------------------
    n_wk_ : int32 (V, K)        topic counts per word type, last sweep (DESIGN: n_wk)
    n_k_ : int32 (K,)           Σ_w n_wk
    n_dk_ : int32 (D, K)        topic counts per document prefix, last sweep
    z_ : int32 (N,)             topic of every prefix token, documents in order (LLA's start)
    prefix_lengths_ : int64 (D,) N_d, so that document d owns z_[ptr[d]:ptr[d+1]]
    topic_word_ : float64 (K, V) φ_kw = (n̄_wk + β) / (n̄_k + Vβ), n̄ averaged over n_average
    doc_topic_ : float64 (D, K)  θ_dk = (n̄_dk + α) / (N_d + Kα)
    log_likelihood_history_ : float64 (n, 2)  rows (sweep, log p(w, z) / N)
    n_iter_done_ : int          sweeps completed (less than n_iter after Ctrl-C)

    Which corpus is the training corpus?  ``fit`` stores a fingerprint (BLAKE2b of the prefix
    tokens, the prefix lengths and V).  :meth:`heldout_log_prob` uses the fitted θ_d when the
    scored corpus has the same fingerprint (same prefixes, whatever the suffixes), otherwise it
    folds the prefixes in with φ fixed.
    """

    model_name = "lda"
    _parameters = LDA_PARAMETERS
    #: ``fit`` shares the work between the processes of a torchrun job (:mod:`lla.distributed`)
    trains_across_processes = True

    def __init__(self, n_topics=100, *, alpha=None, beta=0.01, n_iter=200, n_average=20,
                 sampler="auto", mh_steps=2, n_threads=None, random_state=None,
                 fold_in_iter=50, evaluate_every=10, show_progress=None):
        self._store_arguments(locals())

    # -- hyper-parameters ---------------------------------------------------------------------
    @property
    def alpha_(self):
        """The α actually used (``alpha`` or the default 0.1)."""
        return DEFAULT_ALPHA if self.alpha is None else float(self.alpha)

    def _sampler_code(self):
        from .._kernels.gibbs import SAMPLERS
        name = self.sampler
        if name == "auto":
            name = "exact" if int(self.n_topics) <= AUTO_EXACT_MAX_K else "mh"
        return SAMPLERS[name]

    # -- training -----------------------------------------------------------------------------
    @numba_steps
    def fit(self, corpus, *, resume=False, callback=None, validation=None):
        """Run ``n_iter`` collapsed Gibbs sweeps over the training prefixes of ``corpus``.

        ``validation``: a corpus with the same training prefixes as ``corpus`` (typically
        ``corpus`` itself when it is ``some_corpus.prefix_corpus()``, whose suffixes are the rest
        of the original prefixes): every ``evaluate_every`` sweeps its suffixes are scored by
        document completion with the current θ_d and φ, and ``convergence_`` records (sweep,
        training seconds so far, validation perplexity) — the curve of the paper's Fig. 8.

        ``callback(model, sweep, stats)`` is called after every sweep (sweep counts from 1);
        ``stats`` has ``seconds`` (sampling time of the sweep), ``tokens_per_second`` and
        ``log_likelihood`` (log p(w, z) per token at the last evaluation).  During the call the
        model's ``z_``, ``n_wk_``, ``n_k_``, ``n_dk_`` are the live state.  A callback returning
        ``False`` stops training after that sweep, as does Ctrl-C (KeyboardInterrupt): the
        model then keeps the last finished sweep and ``n_iter_done_`` says how many ran.
        Under several processes (:mod:`lla.distributed`) ``n_wk_`` and ``n_k_`` are the summed
        counts, while ``z_`` and ``n_dk_`` are current only for the rank's own documents until
        the fit ends (with the MH sampler ``z_`` is gathered after every sweep); training stops
        on every rank if one callback returns False, and Ctrl-C is not caught.
        """
        from .._kernels import gibbs
        from .._kernels.rng import seeds_from

        self._validate()
        self._refuse_resume(resume)
        if validation is not None and validation.fingerprint() != corpus.fingerprint():
            raise ParameterError("validation must have the training corpus's prefixes (its "
                                 "suffixes are scored by document completion), e.g. "
                                 "corpus.prefix_corpus() for both")
        K = int(self.n_topics)
        alpha, beta = self.alpha_, float(self.beta)
        words, doc_ptr, prefix_lengths = corpus.prefix_arrays()
        D, V, N = len(prefix_lengths), corpus.n_types, len(words)
        if N == 0:
            raise InputError("the corpus has no training tokens (every document's prefix is "
                             "empty)", corpus.path)
        sampler = self._sampler_code()
        T = max(1, min(int(self.n_threads) if self.n_threads else numba_thread_count(), D))
        ss_init, ss_sampler, ss_infer = self._seed_sequence().spawn(3)
        # several processes: this rank sweeps documents ranks.docs (None: one process)
        ranks = distributed.shard(prefix_lengths) if distributed.is_distributed() else None
        if ranks is not None:
            distributed.check_same_data(corpus.fingerprint())

        # word-major token index: the tokens of type w are word_pos[word_ptr[w]:word_ptr[w+1]]
        word_ptr, word_pos, word_rank = gibbs.word_index(words, V)
        if ranks is None:
            shard_ptr = _shards(doc_ptr, T)
        else:
            first, last = ranks.docs.start, ranks.docs.stop
            T = max(1, min(T, last - first))
            shard_ptr = first + _shards(doc_ptr[first:last + 1] - doc_ptr[first], T)
        visit = gibbs.visit_order(words, doc_ptr)  # within a document, grouped by word type

        n_avg = min(int(self.n_average), int(self.n_iter))
        Kp = gibbs.padded_topics(K) if sampler == gibbs.SAMPLERS["exact"] else K
        check_allocation(array_bytes(((D, K), np.int32), ((V, K), np.int32),
                                     ((T, V, Kp), np.int32), ((T, N), np.int32),
                                     *([((D, K), np.float64), ((V, K), np.float64)] if n_avg
                                       else []), ((K, V), np.float64), ((D, K), np.float64)),
                         f"n_topics={K}: LDA's count matrices (n_dk, n_wk per thread) and φ, θ")
        z = np.random.default_rng(ss_init).integers(0, K, size=N, dtype=np.int32)
        n_dk = np.zeros((D, K), dtype=np.int32)
        n_wk = np.zeros((V, K), dtype=np.int32)
        n_k = np.zeros(K, dtype=np.int32)
        gibbs.count_topics(words, z, doc_ptr, n_dk, n_wk, n_k)
        n_wk_loc, n_k_loc = gibbs.shard_counts(n_wk, n_k, T, sampler)
        z_scratch = np.empty((T if sampler == 0 else 1, N), dtype=np.int32)
        rng_state = seeds_from(ss_sampler if ranks is None
                               else distributed.rank_seed(ss_sampler), T)

        self._reset_fit_state()
        self.z_, self.n_wk_, self.n_k_, self.n_dk_ = z, n_wk, n_k, n_dk
        self.prefix_lengths_ = prefix_lengths
        sum_dk = np.zeros((D, K), dtype=np.float64) if n_avg else None
        sum_wk = np.zeros((V, K), dtype=np.float64) if n_avg else None
        averaged = 0
        history = []
        ll = float("nan")
        done = 0

        bar = progress(total=int(self.n_iter), desc=f"LDA K={K}", unit="sweep",
                       enabled=self.show_progress)
        fit_start = time.perf_counter()
        interrupted = False
        trained_seconds = 0.0
        convergence = []
        if validation is not None:
            held, held_ptr = validation.suffix_arrays()
        try:
            for sweep in range(1, int(self.n_iter) + 1):
                start = time.perf_counter()
                n_wk_start = None if ranks is None else n_wk.copy()
                with distributed.step("an LDA sweep"):
                    gibbs.lda_sweep(words, doc_ptr, shard_ptr, visit, z, z_scratch, n_dk, n_wk,
                                    n_k, n_wk_loc, n_k_loc, word_ptr, word_pos, word_rank,
                                    alpha, beta, int(self.mh_steps), sampler, rng_state)
                if ranks is not None:
                    _merge_ranks(ranks, n_wk_start, z, n_wk, n_k, n_wk_loc, n_k_loc,
                                 gather_z=sampler == 0)
                seconds = time.perf_counter() - start
                trained_seconds += seconds
                done = sweep
                if sweep > int(self.n_iter) - n_avg:
                    sum_dk += n_dk
                    sum_wk += n_wk
                    averaged += 1
                if sweep % int(self.evaluate_every) == 0 or sweep == int(self.n_iter):
                    if ranks is None:
                        ll = gibbs.log_joint(n_wk, n_k, n_dk, prefix_lengths, alpha, beta) / N
                    else:
                        ll = _log_joint_of_ranks(ranks, n_wk, n_k, n_dk, prefix_lengths,
                                                 alpha, beta) / N
                    history.append((sweep, ll))
                    if validation is not None:
                        theta = (n_dk + alpha) / (prefix_lengths[:, None] + K * alpha)
                        phi_wk = np.ascontiguousarray(topic_word(n_wk, beta).T)
                        lp = gibbs.mixture_log_prob(held, held_ptr, theta, phi_wk,
                                                    np.empty(len(held)))
                        convergence.append({"sweep": sweep, "seconds": trained_seconds,
                                            "validation_perplexity": perplexity(lp)})
                stats = {"sweep": sweep, "seconds": seconds, "tokens_per_second": N / seconds,
                         "log_likelihood": ll}
                bar.update(1)
                bar.set_postfix(tok_s=f"{N / seconds:.3g}", ll=f"{ll:.4f}")
                stop = callback is not None and callback(self, sweep, stats) is False
                if ranks is not None:  # every rank stops if one callback says so
                    stop = distributed.any_rank(stop, what="the callbacks' decision")
                if stop:
                    break
        except KeyboardInterrupt:
            if ranks is not None:  # the ranks cannot agree on a last sweep
                raise
            log.warning("LDA: interrupted; keeping the state after sweep %d", done)
            interrupted = True
        finally:
            bar.close()
        if done == 0:
            self._reset_fit_state()
            raise KeyboardInterrupt
        if ranks is not None:
            # every rank holds the current z, n_dk (and their sums) of its own documents only
            z[:] = distributed.all_gather(z[ranks.tokens], what="gathering LDA's topics z")
            n_dk[:] = distributed.all_gather(n_dk[ranks.docs], what="gathering LDA's n_dk")
            if averaged:
                sum_dk[:] = distributed.all_gather(sum_dk[ranks.docs],
                                                   what="gathering LDA's averaged n_dk")

        if averaged:
            mean_wk, mean_dk = sum_wk / averaged, sum_dk / averaged
        else:
            mean_wk, mean_dk = n_wk.astype(np.float64), n_dk.astype(np.float64)
        self.topic_word_ = topic_word(mean_wk, beta)
        self.doc_topic_ = (mean_dk + alpha) / (prefix_lengths[:, None] + K * alpha)
        self.log_likelihood_history_ = np.asarray(history, dtype=np.float64).reshape(-1, 2)
        self.n_iter_done_ = done
        self.interrupted_ = interrupted
        self.convergence_ = convergence
        self.n_averaged_ = averaged
        self.n_nonzero_ = int(np.count_nonzero(mean_wk))   # the support φ is made from
        self.fit_seconds_ = time.perf_counter() - fit_start
        self.fingerprint_ = corpus.fingerprint()
        self.inference_seed_ = int(seeds_from(ss_infer, 1)[0])
        self._record_corpus(corpus)
        self._phi_wk = None
        return self

    def _reset_fit_state(self):
        for name in ("z_", "n_wk_", "n_k_", "n_dk_", "topic_word_", "doc_topic_"):
            setattr(self, name, None)
        self._phi_wk = None

    def _fitted_attribute(self):
        return "topic_word_"

    # -- inference ----------------------------------------------------------------------------
    def _phi_word_major(self):
        """φ transposed, (V, K) C-contiguous: the layout the kernels read."""
        if getattr(self, "_phi_wk", None) is None:
            self._phi_wk = np.ascontiguousarray(self.topic_word_.T)
        return self._phi_wk

    def _fold_in(self, words, doc_ptr):
        from .._kernels import gibbs
        theta = np.empty((len(doc_ptr) - 1, int(self.n_topics)), dtype=np.float64)
        n_iter = int(self.fold_in_iter)
        return gibbs.fold_in(words, doc_ptr, self._phi_word_major(), self.alpha_, n_iter,
                             n_iter // 2, np.uint64(self.inference_seed_), theta)

    @numba_steps
    def transform(self, docs, *, part="prefix"):
        """θ (D, K) float64 of new documents by Gibbs fold-in with φ fixed.

        ``docs``: a :class:`~lla.data.Corpus` (its prefixes with ``part="prefix"``, the default,
        or whole documents with ``part="all"``) or a list of 1-d arrays of token ids (whole
        documents).  Deterministic: documents use streams derived from the model's seed and
        their index, whatever the number of threads."""
        self._check_fitted()
        V = self.topic_word_.shape[1]
        if hasattr(docs, "offsets") and hasattr(docs, "tokens"):
            self._check_vocabulary(docs)
            if part == "prefix":
                words, doc_ptr, _ = docs.prefix_arrays()
            elif part == "all":
                words = np.ascontiguousarray(docs.tokens, dtype=np.int32)
                doc_ptr = np.ascontiguousarray(docs.offsets, dtype=np.int64)
            else:
                raise ParameterError(f"part must be 'prefix' or 'all', got {part!r}")
        else:
            arrays = [np.asarray(d, dtype=np.int64).ravel() for d in docs]
            doc_ptr = np.zeros(len(arrays) + 1, dtype=np.int64)
            np.cumsum([len(a) for a in arrays], out=doc_ptr[1:])
            words = np.concatenate(arrays) if arrays else np.zeros(0, np.int64)
            if words.size and (words.min() < 0 or words.max() >= V):
                raise InputError(f"token ids must lie in [0, {V})")
            words = words.astype(np.int32)
        return self._fold_in(words, doc_ptr)

    def _heldout_theta(self, corpus, fold_in):
        """θ_d (D, K) of the prefixes: fitted (averaged) for the training corpus, Gibbs fold-in
        with φ fixed otherwise."""
        self._check_fitted()
        self._check_vocabulary(corpus)
        same = corpus.fingerprint() == self.fingerprint_
        if fold_in is None:
            fold_in = not same
        if fold_in:
            words, doc_ptr, _ = corpus.prefix_arrays()
            return self._fold_in(words, doc_ptr)
        if not same:
            raise InputError("fold_in=False but this is not the training corpus", corpus.path)
        return self.doc_topic_

    @numba_steps
    def heldout_log_prob(self, corpus, *, n_particles=None, fold_in=None):
        """log p(w_t | θ_d, φ) = log Σ_k θ_dk φ_k,w_t for every suffix token (DESIGN §3,
        document completion), documents in order.  θ_d comes from the prefix only: the fitted
        (averaged) θ for the training corpus, Gibbs fold-in with φ fixed otherwise; the suffix
        never updates θ_d.  ``fold_in=True`` forces fold-in, ``False`` forbids it.
        ``n_particles`` is ignored (no particle filter)."""
        from .._kernels import gibbs
        theta = self._heldout_theta(corpus, fold_in)
        words, doc_ptr = corpus.suffix_arrays()
        out = np.empty(len(words), dtype=np.float64)
        return gibbs.mixture_log_prob(words, doc_ptr, np.ascontiguousarray(theta),
                                      self._phi_word_major(), out)

    @numba_steps
    def _predictive(self, corpus, consume, *, n_particles=None, fold_in=None, explain=False):
        """Document completion: every held-out position of d gets p(v | d) = Σ_k θ_dk φ_kv with
        θ_d from d's prefix (the fitted θ for the training corpus, fold-in otherwise)."""
        theta = self._heldout_theta(corpus, fold_in)
        _, doc_ptr = corpus.suffix_arrays()
        phi_wk = self._phi_word_major()
        for d in range(len(doc_ptr) - 1):
            lo, hi = int(doc_ptr[d]), int(doc_ptr[d + 1])
            if hi > lo:
                scores = phi_wk @ theta[d]                                      # (V,)
                consume(np.arange(lo, hi), np.broadcast_to(scores, (hi - lo, scores.size)),
                        False, np.broadcast_to(theta[d], (hi - lo, theta.shape[1])))
        # the explanation: θ_d of every prefix (LDA reads a history as a mixture, not a path)
        return list(theta) if explain else None

    # -- interpretation -----------------------------------------------------------------------
    def n_parameters(self):
        """The convention of every lla model: ``dense`` = parameters stored densely (none for
        LDA: φ is its counts; per-document θ is inferred state, not a model parameter);
        ``nonzero`` = nnz of the sparse topic-word counts φ is made from (DESIGN §1): the
        counts averaged over the last ``n_average`` sweeps (the union of their supports), the
        last sweep's n_wk without averaging; ``total`` = dense + nonzero.  ``topic_word_dense``
        = K·V, the size of φ stored as a dense matrix."""
        self._check_fitted()
        K, V = self.topic_word_.shape
        nnz = getattr(self, "n_nonzero_", None)
        if nnz is None:   # a model saved before the count was kept: its last sweep's
            nnz = int(np.count_nonzero(self.n_wk_))
        return {"dense": 0, "nonzero": nnz, "total": nnz, "topic_word_dense": K * V}

    def interruption(self):
        if getattr(self, "interrupted_", False):
            return f"interrupted after {self.n_iter_done_} of {self.n_iter} sweeps"
        return None

    def convergence(self):
        return [(c["seconds"], c["validation_perplexity"]) for c in
                getattr(self, "convergence_", [])]

    def convergence_curve(self, corpus):
        return self._curve_by_refit(corpus)

    def fit_summary(self):
        text = f"{self.n_iter_done_} sweeps"
        if self.n_iter_done_ < int(self.n_iter):
            text += f" (stopped early, of {self.n_iter})"
        seconds = getattr(self, "fit_seconds_", None)
        if seconds:
            n = int(np.sum(self.prefix_lengths_))
            text += f", {self.n_iter_done_ * n / seconds:,.0f} tokens/s"
        return text

    # -- LLA's initialisation -----------------------------------------------------------------
    def assignments_(self, d=None):
        """Final topic assignments: all prefix tokens (N,) int32 in document order, or those of
        document ``d`` (a view of ``z_``)."""
        if getattr(self, "z_", None) is None:
            raise NotFittedError("this LDA is not fitted yet; call fit() first")
        if d is None:
            return self.z_
        ptr = np.concatenate([[0], np.cumsum(self.prefix_lengths_)])
        return self.z_[ptr[d]:ptr[d + 1]]

    # -- persistence --------------------------------------------------------------------------
    def _get_state(self):
        meta = {"fingerprint": self.fingerprint_, "inference_seed": self.inference_seed_,
                "convergence": getattr(self, "convergence_", []),
                "n_iter_done": self.n_iter_done_, "n_averaged": self.n_averaged_,
                "n_nonzero": self.n_nonzero_,
                "interrupted": bool(getattr(self, "interrupted_", False)),
                "corpus_path": self.corpus_path_}
        vocab = "\n".join(self.vocab_types_).encode("utf-8")
        arrays = {"n_wk": self.n_wk_, "n_k": self.n_k_, "n_dk": self.n_dk_, "z": self.z_,
                  "prefix_lengths": self.prefix_lengths_, "topic_word": self.topic_word_,
                  "doc_topic": self.doc_topic_,
                  "log_likelihood_history": self.log_likelihood_history_,
                  "vocab_utf8": np.frombuffer(vocab, dtype=np.uint8)}
        return meta, arrays

    def _set_state(self, metadata, arrays):
        try:
            self.fingerprint_ = metadata["fingerprint"]
            self.inference_seed_ = int(metadata["inference_seed"])
            self.n_iter_done_ = int(metadata["n_iter_done"])
            self.n_averaged_ = int(metadata.get("n_averaged", 0))
            self.n_nonzero_ = metadata.get("n_nonzero")
            self.interrupted_ = bool(metadata.get("interrupted", False))
            self.convergence_ = list(metadata.get("convergence", []))
            self.corpus_path_ = metadata.get("corpus_path")
            self.n_wk_, self.n_k_, self.n_dk_ = arrays["n_wk"], arrays["n_k"], arrays["n_dk"]
            self.z_, self.prefix_lengths_ = arrays["z"], arrays["prefix_lengths"]
            self.topic_word_, self.doc_topic_ = arrays["topic_word"], arrays["doc_topic"]
            self.log_likelihood_history_ = arrays["log_likelihood_history"]
            self.vocab_types_ = bytes(arrays["vocab_utf8"]).decode("utf-8").split("\n")
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"saved LDA model is incomplete or corrupt ({e})") from None
        K, V = self.topic_word_.shape
        if self.n_wk_.shape != (V, K) or len(self.vocab_types_) != V:
            raise InputError("saved LDA model has inconsistent array shapes")
        self._phi_wk = None


# -- helpers ----------------------------------------------------------------------------------
def _merge_ranks(ranks, n_wk_start, z, n_wk, n_k, n_wk_loc, n_k_loc, *, gather_z):
    """After a sweep of every rank over its own documents: n_wk ← n_wk° + Σ_ranks (n_wk_r −
    n_wk°) (one all-reduce of the V×K deltas; n_k from it), the per-thread copies set to the
    result, and — for the MH sampler, whose word proposal reads the topics of every token of a
    type — z gathered from the ranks.  All arrays are changed in place."""
    delta = distributed.all_reduce(n_wk - n_wk_start,
                                   what="the all-reduce of LDA's count deltas")
    np.add(n_wk_start, delta, out=n_wk)
    n_k[:] = n_wk.sum(axis=0, dtype=np.int64)
    n_wk_loc[:, :, :n_wk.shape[1]] = n_wk        # (padded columns stay zero)
    n_k_loc[:] = n_k
    if gather_z:
        z[:] = distributed.all_gather(z[ranks.tokens], what="gathering LDA's topics z")


def _log_joint_of_ranks(ranks, n_wk, n_k, n_dk, doc_len, alpha, beta):
    """log p(w, z) when each rank holds the current n_dk of its own documents only: the word
    and topic terms (the same on every rank) plus the sum over ranks of their document terms."""
    from .._kernels import gibbs
    K = n_wk.shape[1]
    common = gibbs.log_joint(n_wk, n_k, np.zeros((0, K), dtype=n_dk.dtype),
                             np.zeros(0, dtype=doc_len.dtype), alpha, beta)
    mine = gibbs.log_joint(n_wk, n_k, np.ascontiguousarray(n_dk[ranks.docs]),
                           np.ascontiguousarray(doc_len[ranks.docs]), alpha, beta) - common
    return common + distributed.all_reduce_scalar(mine, what="LDA's log-likelihood")


def _shards(doc_ptr, T):
    """T contiguous document ranges with about equal numbers of tokens: (T+1,) int64."""
    D = len(doc_ptr) - 1
    targets = np.linspace(0, doc_ptr[-1], T + 1)
    shard_ptr = np.searchsorted(doc_ptr, targets).astype(np.int64)
    shard_ptr[0], shard_ptr[-1] = 0, D
    return np.maximum.accumulate(shard_ptr)
