"""Shared machinery of the LLA family (topic-, word- and char-LLA; DESIGN §1, §2).

:class:`LLABase` holds what the variants have in common — the LDA initialisation (iteration 0 =
the independent learner), the SEM loop of :mod:`lla.inference.sem`, validation and early
stopping, checkpoints and resume, progress, ``n_parameters`` and save/load (``model.json`` +
``arrays.safetensors``, never pickle).  A variant supplies only:

* the input encoder of the dynamics (``_build_encoder``: topic table, word table, char-BiLSTM),
* the SE-step (``_se_step_fn``: sequential for topic-LLA, one fused pass for word/char-LLA),
* the LSTM input sequence of the M-step (``_lstm_symbols``: z for topic-LLA, w for word/char),
* held-out scoring (particle filter or exact) and its own saved state, if any.

Randomness: one ``random_state`` → a SeedSequence; iteration i of SEM uses streams derived from
(seed, i), scoring and validation use their own streams.  Hence the same seed and the same
``n_threads`` give the same model on the CPU (and ``resume`` continues exactly where an
uninterrupted run would be); the LDA initialisation's shards, and the summation order of
multi-threaded torch kernels, depend on ``n_threads``.  CUDA draws from different generators and
its kernels are not bit-reproducible, so runs on a GPU are reproducible only statistically.

Several processes (``torchrun``, :mod:`lla.distributed`, docs/distributed.md): each rank samples
and trains on its own block of documents; the streams of the SE-step, of dropout, of the
minibatch tie-breaks and of scoring are derived from (seed, ..., rank), the order of the LSTM's
minibatches from (seed, iteration) alone.  So the same seed, number of processes and
``n_threads`` give the same model (on the CPU), but not the model of another number of
processes.  Rank 0 alone writes checkpoints; every rank holds the same model.
"""

import copy
import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .._progress import progress
from .._atomic import check_writable
from .._threads import torch_threads
from ..base import Model, load_model
from ..topics import TopicWordMixin
from ..errors import InputError, ParameterError, TrainingDiverged
from ..evaluation.perplexity import perplexity
from ..inference.counts import log_phi_wk, topic_counts, topic_word
from ..inference.sem import (StepConfig, document_blocks, fit_lstm, fit_lstm_sharded, run_sem,
                             se_chain, sequential_se_step)
from ..nn.dynamics import Dynamics
from ..nn.early_stopping import EarlyStopping
from ..nn.state import (load_optimizer, numpy_to_tensors, optimizer_arrays,
                        tensors_to_numpy)
from ..nn.training import make_optimizer
from .. import distributed, params
from ..params import Param
from .lda import LDA

log = logging.getLogger(__name__)

# spawn keys of the random streams derived from the model's seed
_LDA, _INIT, _ITER, _SCORE, _VALID, _AVERAGE, _ONLINE = 0, 1, 2, 3, 4, 5, 6

#: hyper-parameters of every LLA variant (DESIGN §1, §2); the defaults are the constructors'
LLA_PARAMETERS = {
    "n_topics": params.TOPICS,
    "embedding_size": params.EMBEDDING,
    "hidden_size": params.HIDDEN,
    "alpha": params.ALPHA,
    "beta": params.BETA,
    "n_iter": Param("int", low=0, flag="--iterations", compare_flag="--sem-iterations",
                    resumable=True, metavar="N", help="SEM iterations (SE-step + M-step)"),
    "n_average": Param("int", low=0, flag="--average", resumable=True, metavar="N",
                       help="LLA: φ from the topic counts averaged over N SE-steps run with "
                            "the final LSTM"),
    "online_blocks": Param("int", low=1, flag="--online-blocks", compare_flag="--online-blocks",
                           metavar="B",
                           help="LLA: online SEM — every pass splits the documents into B "
                                "random blocks and each SEM iteration samples and trains on one "
                                "(1: every iteration visits every document)"),
    "init_lda_iter": Param("int", low=1, flag="--init-lda-iterations",
                           compare_flag="--lda-iterations", metavar="N",
                           help="LLA: LDA sweeps of the initialisation"),
    "init_lstm_epochs": Param("int", low=0, flag="--init-lstm-epochs",
                              compare_flag="--init-lstm-epochs", metavar="N",
                              help="LLA: LSTM epochs on LDA's assignments before SEM"),
    "lstm_epochs_per_iter": Param("int", low=0, flag="--lstm-epochs",
                                  compare_flag="--lstm-epochs", metavar="N",
                                  help="LLA: LSTM epochs per SEM iteration"),
    "batch_size": replace(params.BATCH, compare_flag="--batch-size"),
    "bptt": params.BPTT,
    "learning_rate": params.LEARNING_RATE,
    "weight_decay": Param("float", low=0, flag="--weight-decay", metavar="WD",
                          help="LLA: AdamW's decoupled weight decay"),
    "dropout": params.DROPOUT,
    "early_stopping": Param("bool", flag="--early-stopping", resumable=True,
                            help="LLA: train on 60% of every prefix, keep the iteration "
                                 "whose perplexity on the rest is best"),
    "patience": params.PATIENCE,
    "validation_every": Param("int", low=1, resumable=True,
                              help="SEM iterations between validation scores"),
    "n_slots": Param("int", low=1, none=True,
                     help="documents processed side by side in the SE-step and in scoring "
                          "(None: about total tokens / longest document)"),
    "n_threads": params.THREADS,
    "device": params.DEVICE,
    "checkpoint_dir": Param("path", none=True, flag="--checkpoint-dir", resumable=True,
                            metavar="DIR", help="LLA: save the model there after every "
                                                "SEM iteration (continue with --resume)"),
    "random_state": params.SEED,
    "show_progress": params.PROGRESS,
}


class LLABase(TopicWordMixin, Model):
    """What every LLA variant shares (DESIGN §1, §2): LDA start, SEM loop, validation and early
    stopping, checkpoints and resume, save/load.  Subclasses set ``model_name``, store their
    hyper-parameters in ``__init__`` and provide the hooks below (the encoder, the SE-step, the
    LSTM input sequence, validation scoring).  See :class:`lla.TopicLLA` for the parameters and
    fitted attributes common to all variants.
    """

    _parameters = LLA_PARAMETERS
    _renamed_parameters = {"se_batch_size": "n_slots"}
    #: a model saved before φ averaging existed was not averaged
    _parameters_before_they_existed = {"n_average": 0}
    #: ``fit`` and scoring share the work between the processes of a torchrun job
    #: (:mod:`lla.distributed`)
    trains_across_processes = True

    # -- hooks of the variants ------------------------------------------------------------------
    #: fitted attributes of a variant that a resumed run takes over from its checkpoint
    _variant_attributes = ()

    def _build_encoder(self, device):
        """The input encoder module (x_{t-1}); None = Dynamics' default K×E topic table."""
        return None

    def _lstm_symbols(self, words):
        """The LSTM's conditioning sequence c (N,) for the M-step; None = the sampled z."""
        return None

    def _se_step_fn(self):
        """se_step_fn(dynamics, phi, words, lengths, generator, config) -> z (``phi``: the step's
        :class:`lla.inference.counts.FixedPhi`)."""
        return sequential_se_step

    def _validation_log_prob(self, corpus):
        """log p(w_t | w_<t) of ``corpus``'s suffix tokens for validation (own random stream)."""
        raise NotImplementedError

    def _extra_state(self):
        """(metadata, arrays) of a variant's own state, saved with the model."""
        return {}, {}

    def _restore_extra_state(self, metadata, arrays):
        """Called by ``_set_state`` after the vocabulary, before the dynamics are built."""

    def _fitted_attribute(self):
        return "n_wk_"

    # -- checks and seeds ---------------------------------------------------------------------
    def _torch_device(self):
        try:
            device = distributed.resolve_device(self.device)
        except (RuntimeError, TypeError) as e:
            raise ParameterError(f"unknown device {self.device!r} ({e})") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ParameterError(f"device {self.device!r} requested but torch sees no CUDA GPU")
        return device

    def _root_entropy(self):
        return self._seed_sequence().entropy

    def _stream(self, *key):
        return np.random.SeedSequence(self.entropy_, spawn_key=tuple(int(k) for k in key))

    def _torch_generator(self, *key):
        seed = int(self._stream(*key).generate_state(1, np.uint64)[0])
        return torch.Generator(device=self._torch_device()).manual_seed(seed)

    def _iteration_streams(self, iteration):
        if getattr(self, "_shard", None) is None:
            return (self._torch_generator(_ITER, iteration, 0),
                    self._torch_generator(_ITER, iteration, 1),
                    np.random.default_rng(self._stream(_ITER, iteration, 2)))
        # several processes: SE-step, dropout and tie-breaks per rank; the minibatch order common
        rank = distributed.rank()
        return (self._torch_generator(_ITER, iteration, 0, rank),
                self._torch_generator(_ITER, iteration, 1, rank),
                np.random.default_rng(self._stream(_ITER, iteration, 2)),
                np.random.default_rng(self._stream(_ITER, iteration, 3, rank)))

    def _block_for(self, n_documents):
        """Online SEM's block_for(iteration) (:func:`lla.inference.sem.run_sem`), or None when
        ``online_blocks`` is 1.  Iteration i visits block (i − 1) mod B of pass ⌊(i − 1) / B⌋,
        whose random partition of the documents comes from the stream (seed, pass): the same
        on every rank, and a resumed run visits what an uninterrupted one would."""
        B = int(self.online_blocks)
        if B == 1:
            return None

        def block_for(iteration):
            pass_index, block = divmod(int(iteration) - 1, B)
            rng = np.random.default_rng(self._stream(_ONLINE, pass_index))
            return document_blocks(n_documents, B, rng)[block]
        return block_for

    def _scoring_generator(self, *key):
        """The torch generator of a scoring stream (``key``); under several processes each
        rank scores its own documents with its own stream (key + rank)."""
        if distributed.is_distributed():
            key = key + (distributed.rank(),)
        return self._torch_generator(*key)

    def _sharded(self, score, tokens, lengths, prefix_lengths):
        """``score(tokens, lengths, prefix_lengths)`` of all documents — under several processes
        each rank scores its block of documents (balanced by tokens) and the outputs (an array
        or a tuple of arrays, first axis in document order) are gathered on every rank."""
        tokens = np.asarray(tokens)
        lengths = np.asarray(lengths, dtype=np.int64)
        prefix_lengths = np.asarray(prefix_lengths, dtype=np.int64)
        if not distributed.is_distributed():
            return score(tokens, lengths, prefix_lengths)
        distributed.check_agreement(len(tokens), "the number of tokens to score")
        mine = distributed.shard(lengths)
        with distributed.step("scoring"):
            out = score(tokens[mine.tokens], lengths[mine.docs], prefix_lengths[mine.docs])
        if isinstance(out, tuple):
            return tuple(distributed.all_gather(o, what="gathering the scores") for o in out)
        return distributed.all_gather(out, what="gathering the scores")

    def _parallel_model(self):
        """``dynamics_`` wrapped in DistributedDataParallel, created once per fit."""
        ddp = getattr(self, "_ddp", None)
        if ddp is None or ddp.module is not self.dynamics_:
            self._ddp = ddp = distributed.data_parallel(self.dynamics_)
        return ddp

    def _step_config(self, epochs):
        return StepConfig(epochs=int(epochs), batch_size=int(self.batch_size),
                          bptt=int(self.bptt), n_slots=int(self.n_slots or 0))

    def _new_dynamics(self):
        device = self._torch_device()
        g = torch.Generator().manual_seed(int(self._stream(_INIT).generate_state(1, np.uint64)[0]))
        d = Dynamics(int(self.n_topics), int(self.embedding_size), int(self.hidden_size),
                     encoder=self._build_encoder(device), dropout=float(self.dropout),
                     device=device).reset_parameters(g)
        return d.eval()

    # -- training -----------------------------------------------------------------------------
    def fit(self, corpus, *, validation=None, resume=False, callback=None,
            init_assignments=None):
        """Train on the prefixes of ``corpus`` (see the class docstring).

        validation : optional Corpus (same vocabulary) scored on its suffixes every
            ``validation_every`` iterations; with ``early_stopping`` it decides when to stop.
        resume : continue from the checkpoint in ``checkpoint_dir`` (same corpus and
            hyper-parameters; ``n_iter`` may be larger).  Without a checkpoint there, start anew.
        callback : callback(model, iteration, stats) after every finished iteration; returning
            False stops training.
        init_assignments : optional int (N,) topics of the training prefix tokens (documents in
            order) to start from instead of the LDA sweeps (e.g. another model's ``z_``).

        Ctrl-C (KeyboardInterrupt) after the initialisation stops cleanly: the model keeps the
        last finished iteration and ``interrupted_`` is True.  torch and numba run on
        ``n_threads`` threads (:mod:`lla._threads`).
        """
        self._validate()
        if resume and self.checkpoint_dir is None:
            raise ParameterError("needs checkpoint_dir (the checkpoint to continue from)",
                                 parameter="resume")
        self._torch_device()  # an unusable device fails here, before any work
        with torch_threads(self.n_threads):
            try:
                return self._fit(corpus, validation, resume, callback, init_assignments)
            except TrainingDiverged as e:
                raise TrainingDiverged(f"{e}; {self._what_was_kept()}") from None
            finally:
                self._ddp = self._shard = None

    def _what_was_kept(self):
        """Where the last finite state of a run that stopped is, for the error message."""
        done = getattr(self, "n_iter_done_", None)
        if self.checkpoint_dir is not None and done is not None and \
                (Path(self.checkpoint_dir) / "model.json").exists():
            return f"the checkpoint {self.checkpoint_dir} keeps iteration {done}, the last " \
                   f"finite one"
        if done:
            return f"no checkpoint was kept (iterations 0..{done} were finite; use " \
                   f"checkpoint_dir to keep them)"
        return "it diverged before the first iteration finished, nothing was kept"

    def _fit(self, corpus, validation, resume, callback, init_assignments):
        train = corpus
        if validation is None and self.early_stopping:
            train = corpus.prefix_corpus()
            validation = train
        if validation is not None and validation.n_types != corpus.n_types:
            raise InputError("the validation corpus has a different vocabulary size",
                             getattr(validation, "path", None))
        words, _, lengths = train.prefix_arrays()
        if len(words) == 0:
            raise InputError("the corpus has no training tokens", corpus.path)
        if int(self.online_blocks) > len(lengths):
            raise ParameterError(f"must be at most the number of training documents "
                                 f"({len(lengths):,}), got {self.online_blocks}: a block would "
                                 f"be empty", parameter="online_blocks")
        K = int(self.n_topics)
        fingerprint = train.fingerprint()
        # several processes: this rank's block of documents (None: one process)
        self._shard = distributed.shard(lengths) if distributed.is_distributed() else None
        distributed.check_same_data(fingerprint)

        has_checkpoint = self.checkpoint_dir is not None and \
            (Path(self.checkpoint_dir) / "model.json").exists()
        if self._shard is not None:
            distributed.check_agreement(has_checkpoint, f"whether {self.checkpoint_dir} holds a "
                                                        f"checkpoint (every rank must see it)")
        if resume and not has_checkpoint:
            raise InputError("no checkpoint to resume from (no model.json there; a mistyped "
                             "directory?); leave out resume to start a new training",
                             self.checkpoint_dir)
        if self.checkpoint_dir is not None and not resume and distributed.is_writer():
            check_writable(self.checkpoint_dir, force=True)   # before hours of training
        if resume:
            with distributed.step("loading the checkpoint"):
                self._load_checkpoint(fingerprint)
            if self._shard is not None:
                distributed.check_agreement(self.n_iter_done_, "the checkpoint's iteration")
            log.info("%s: resuming after iteration %d from %s", self.model_name,
                     self.n_iter_done_, self.checkpoint_dir)
            if self.history_ and "averaged" in self.history_[-1] and \
                    not self._average_is_current():
                self.history_.pop()   # the checkpoint's average will be made anew
        else:
            self.entropy_ = self._root_entropy()
            self.fingerprint_ = fingerprint
            self._record_corpus(corpus)
            self.prefix_lengths_ = lengths
            self.history_ = []
            self.n_iter_done_ = 0
            self._stopper = self._new_stopper()
            self._best = None
            self._validation_corpus = validation
            self._initialise(train, words, lengths, init_assignments)
        z, n_wk, optimizer = self.z_, self.n_wk_, self._optimizer
        self.interrupted_ = False
        self._validation_corpus = validation
        dynamics = self.dynamics_
        bar = progress(total=int(self.n_iter), initial=min(self.n_iter_done_, int(self.n_iter)),
                       desc=f"{self.model_name} K={K}", unit="iter", enabled=self.show_progress)

        def after_iteration(it, z_it, n_wk_it, stats):
            self._set_fitted(z_it, n_wk_it, it)
            stats = dict(stats, iteration=it)
            keep_going = self._validate_and_record(stats, it)
            bar.update(1)
            bar.set_postfix(se_tok_s=f"{stats['se_tokens_per_second']:.3g}",
                            loss=f"{stats['lstm_loss']:.3f}",
                            phi_nnz=f"{stats['phi_density']:.3f}",
                            **({"valid_ppl": f"{stats['validation_perplexity']:.1f}"}
                               if "validation_perplexity" in stats else {}))
            log.info("%s iteration %d: %s", self.model_name, it, stats)
            self._checkpoint()
            stop = callback is not None and callback(self, it, stats) is False
            if self._shard is not None:  # every rank stops if one callback says so
                stop = distributed.any_rank(stop, what="the callbacks' decision")
            if stop:
                return False
            return keep_going

        try:
            if self.n_iter_done_ < int(self.n_iter) and not self._stopped_early():
                z, n_wk, done, interrupted = run_sem(
                    dynamics, optimizer, words, lengths, z, n_wk, float(self.beta),
                    first=self.n_iter_done_ + 1, last=int(self.n_iter),
                    config=self._step_config(self.lstm_epochs_per_iter),
                    streams_for=self._iteration_streams, after_iteration=after_iteration,
                    se_step_fn=self._se_step_fn(), symbols=self._lstm_symbols(words),
                    shard=self._shard,
                    model=None if self._shard is None else self._parallel_model(),
                    block_for=self._block_for(len(lengths)))
                if interrupted:
                    log.warning("%s: interrupted; keeping iteration %d", self.model_name, done)
                    self.interrupted_ = True
                    # the last finished iteration (after_iteration may not have run for it)
                    self._set_fitted(z, n_wk, done)
        finally:
            bar.close()
        if self.early_stopping and self._best is not None:
            self._restore_best()
        if not self.interrupted_:
            self._average_counts(words, lengths)
        return self

    def _average_counts(self, words, lengths):
        """φ from the counts averaged over ``n_average`` SE-steps with the LSTM fixed
        (:func:`lla.inference.sem.se_chain`, started from the kept iteration's counts), as LDA
        averages its last sweeps: the SEM chain's last single sample of z is a noisy estimate
        of the counts.  ``n_wk_`` and ``z_`` stay the SEM chain's (a resumed run continues
        from them); ``n_wk_mean_`` float32 (V, K) holds the mean, ``topic_word_`` and scoring
        use it.  Ctrl-C keeps the steps averaged so far and marks the model interrupted."""
        wanted = int(self.n_average)
        if wanted == 0 or self._average_is_current():
            return   # nothing asked, or a resumed run whose checkpoint holds this average
        rank = () if self._shard is None else (distributed.rank(),)
        generators = (self._torch_generator(_AVERAGE, i, *rank) for i in range(wanted))
        chain = se_chain(self.dynamics_, words, lengths, self.n_wk_, float(self.beta),
                         self._step_config(0), generators, se_step_fn=self._se_step_fn(),
                         shard=self._shard)
        total, done = np.zeros(self.n_wk_.shape, dtype=np.float64), 0
        start = time.perf_counter()
        bar = progress(total=wanted, desc=f"{self.model_name}: averaging φ", unit="SE-step",
                       enabled=self.show_progress)
        try:
            for counts in chain:
                total += counts
                done += 1
                bar.update(1)
        except KeyboardInterrupt:
            if self._shard is not None:
                raise
            log.warning("%s: interrupted while averaging φ; keeping the mean of %d of %d "
                        "SE-steps", self.model_name, done, wanted)
            self.interrupted_ = True
        finally:
            bar.close()
        if not done:
            return
        self._set_average((total / done).astype(np.float32), done)
        record = {"iteration": self.n_iter_done_, "averaged": done,
                  "se_seconds": time.perf_counter() - start}
        if self.early_stopping and self._best is not None:
            record["from_iteration"] = self._best["iteration"]   # the kept one
        validation = getattr(self, "_validation_corpus", None)
        if validation is not None:   # the curve's last point: the averaged model
            start = time.perf_counter()
            record["validation_perplexity"] = perplexity(self._validation_log_prob(validation))
            record["validation_seconds"] = time.perf_counter() - start
        self.history_.append(record)
        log.info("%s: φ averaged over %d SE-steps: %s", self.model_name, done, record)
        self._checkpoint()

    def _average_is_current(self):
        """Whether the model holds the average ``n_average`` asks for, of its last iteration
        (a resumed run that trains no further and averages as its checkpoint did)."""
        return self.n_wk_mean_ is not None and self.n_averaged_ == int(self.n_average) and \
            self.n_iter_done_ >= int(self.n_iter)

    def _set_average(self, n_wk_mean, n_averaged):
        self.n_wk_mean_, self.n_averaged_ = n_wk_mean, int(n_averaged)
        self.topic_word_ = topic_word(n_wk_mean, float(self.beta))

    def _phi_counts(self):
        """The counts φ is made from: the average ``n_wk_mean_`` when there is one, else the
        last SE-step's ``n_wk_``."""
        return self.n_wk_ if self.n_wk_mean_ is None else self.n_wk_mean_

    def _initialise(self, train, words, lengths, init_assignments=None):
        """Iteration 0: LDA sweeps (or given assignments), then the LSTM on the assignments."""
        start = time.perf_counter()
        if init_assignments is not None:
            z = np.asarray(init_assignments).astype(np.int32).ravel()
            if z.shape != words.shape or z.min() < 0 or z.max() >= int(self.n_topics):
                raise ParameterError(f"init_assignments must be {len(words)} topics in "
                                     f"[0, {self.n_topics})")
            n_wk = topic_counts(words, z, train.n_types, int(self.n_topics))
            lda_seconds = 0.0
        else:
            lda = LDA(int(self.n_topics), alpha=self.alpha, beta=float(self.beta),
                      n_iter=int(self.init_lda_iter), n_average=0, n_threads=self.n_threads,
                      random_state=self._stream(_LDA), show_progress=self.show_progress,
                      evaluate_every=max(1, int(self.init_lda_iter)))
            lda.fit(train)
            lda_seconds = time.perf_counter() - start
            if lda.n_iter_done_ < int(self.init_lda_iter):
                raise KeyboardInterrupt  # LDA was interrupted: there is no model yet
            z = np.asarray(lda.z_, dtype=np.int32).copy()
            n_wk = np.asarray(lda.n_wk_, dtype=np.int32).copy()
        self.dynamics_ = self._new_dynamics()
        self._optimizer = make_optimizer(self.dynamics_, float(self.learning_rate),
                                         float(self.weight_decay))
        start = time.perf_counter()
        symbols = self._lstm_symbols(words)
        bar = progress(total=int(self.init_lstm_epochs) * len(words),
                       desc=f"{self.model_name}: LSTM on LDA's topics", unit="tok",
                       enabled=self.show_progress)
        try:
            if self._shard is None:
                _, drop_gen, rng = self._iteration_streams(0)
                loss = fit_lstm(self.dynamics_, self._optimizer, z, lengths,
                                self.init_lstm_epochs, self._step_config(self.init_lstm_epochs),
                                rng, drop_gen, bar=bar, symbols=symbols)
            else:
                _, drop_gen, order_rng, rank_rng = self._iteration_streams(0)
                mine = self._shard.tokens
                loss = fit_lstm_sharded(self._parallel_model(), self._optimizer, z[mine],
                                        lengths, self._shard, self.init_lstm_epochs,
                                        self._step_config(self.init_lstm_epochs), order_rng,
                                        rank_rng, drop_gen,
                                        symbols=None if symbols is None else symbols[mine])
        finally:
            bar.close()
        stats = {"iteration": 0, "lda_seconds": lda_seconds,
                 "lstm_seconds": time.perf_counter() - start, "lstm_loss": loss,
                 "phi_density": float(np.count_nonzero(n_wk)) / n_wk.size}
        self._set_fitted(z, n_wk, 0)
        self._validate_and_record(stats, 0)
        self._checkpoint()

    def _set_fitted(self, z, n_wk, iteration):
        self.z_, self.n_wk_ = z, n_wk
        self.n_wk_mean_, self.n_averaged_ = None, 0   # the SEM chain's state, not averaged
        self.topic_word_ = topic_word(n_wk, float(self.beta))
        self.n_iter_done_ = iteration

    # -- validation / early stopping ------------------------------------------------------------
    def _new_stopper(self):
        return EarlyStopping(patience=int(self.patience), every=int(self.validation_every))

    @property
    def best_iteration_(self):
        """The iteration with the best validation perplexity (the one kept with
        ``early_stopping``); None without validation."""
        return self._stopper.best_step

    @property
    def best_score_(self):
        """That iteration's validation perplexity (None without validation)."""
        return self._stopper.best_score

    def _validate_and_record(self, stats, iteration):
        """Score the validation corpus if due, track the best iteration; returns False to
        stop."""
        validation = getattr(self, "_validation_corpus", None)
        keep_going = True
        if validation is not None and iteration % int(self.validation_every) == 0:
            start = time.perf_counter()
            ppl = perplexity(self._validation_log_prob(validation))
            stats["validation_perplexity"] = ppl
            stats["validation_seconds"] = time.perf_counter() - start
            if self._stopper.record(iteration, ppl):
                if self.early_stopping:
                    self._best = self._snapshot()
            elif self.early_stopping and self._stopper.exhausted(iteration):
                log.info("%s: early stop at iteration %d (best %d, validation perplexity "
                         "%.2f)", self.model_name, iteration, self.best_iteration_,
                         self.best_score_)
                stats["early_stop"] = True
                keep_going = False
        self.history_.append({k: (float(v) if isinstance(v, (np.floating, float)) else v)
                              for k, v in stats.items()})
        return keep_going

    def iteration_history(self):
        """The records of ``history_`` of iterations 0..``n_iter_done_`` (LDA start, SEM
        iterations), without the last record of the φ averaging after them."""
        return [h for h in getattr(self, "history_", []) if "averaged" not in h]

    def _stopped_early(self):
        iterations = self.iteration_history()
        return bool(iterations) and bool(iterations[-1].get("early_stop"))

    def _snapshot(self):
        return {"iteration": self.n_iter_done_, "z": self.z_.copy(), "n_wk": self.n_wk_.copy(),
                "dynamics": copy.deepcopy(self.dynamics_.state_dict())}

    def _restore_best(self):
        best = self._best
        self.dynamics_.load_state_dict(best["dynamics"])
        self._set_fitted(best["z"], best["n_wk"], self.n_iter_done_)

    # -- checkpoints --------------------------------------------------------------------------
    def _checkpoint(self):
        if self.checkpoint_dir is None:
            return
        if getattr(self, "_shard", None) is None:
            self.save(self.checkpoint_dir, force=True)
            return
        with distributed.step("writing the checkpoint"):  # rank 0 writes, all learn if it failed
            if distributed.is_writer():
                self.save(self.checkpoint_dir, force=True)

    def _load_checkpoint(self, fingerprint):
        saved = load_model(self.checkpoint_dir)
        if type(saved) is not type(self):
            raise InputError(f"the checkpoint is not a {self.model_name} model",
                             self.checkpoint_dir)
        mine, theirs = self.get_params(), saved.get_params()
        diff = sorted(k for k in set(mine) | set(theirs)
                      if not (k in self._parameters and self._parameters[k].resumable)
                      and mine.get(k) != theirs.get(k))
        if diff:
            raise InputError(f"cannot resume: hyper-parameters differ from the checkpoint's "
                             f"({', '.join(diff)})", self.checkpoint_dir)
        if saved.fingerprint_ != fingerprint:
            raise InputError("cannot resume: the checkpoint was trained on another corpus",
                             self.checkpoint_dir)
        for name in ("entropy_", "fingerprint_", "corpus_path_", "vocab_types_", "item_names_",
                     "prefix_lengths_", "history_", "n_iter_done_", "z_", "n_wk_",
                     "n_wk_mean_", "n_averaged_", "topic_word_", "_best",
                     *self._variant_attributes):
            setattr(self, name, getattr(saved, name))
        self._stopper = self._new_stopper()
        self._stopper.best_score = saved.best_score_
        self._stopper.best_step = saved.best_iteration_
        self.z_ = np.array(self.z_, dtype=np.int32)
        self.n_wk_ = np.array(self.n_wk_, dtype=np.int32)
        self.dynamics_ = saved.dynamics_.to(self._torch_device())
        self._optimizer = make_optimizer(self.dynamics_, float(self.learning_rate),
                                         float(self.weight_decay))
        if saved._optimizer_state is not None:
            load_optimizer(self._optimizer, saved._optimizer_state, self.dynamics_)

    # -- scoring ------------------------------------------------------------------------------
    def _log_phi_wk(self):
        return log_phi_wk(self._phi_counts(), float(self.beta), self.dynamics_.device)

    # -- interpretation -----------------------------------------------------------------------
    def n_parameters(self):
        """``dense``: the dynamics' parameters (encoder + x_0 + LSTM + W_p, b_p); ``nonzero``:
        nnz of the counts φ is made from (the averaged counts with ``n_average``, whose support
        is the union of the averaged SE-steps'); ``total``: their sum (DESIGN §1)."""
        self._check_fitted()
        dense = int(self.dynamics_.n_parameters())
        nnz = int(np.count_nonzero(self._phi_counts()))
        return {"dense": dense, "nonzero": nnz, "total": dense + nnz}

    def interruption(self):
        if not getattr(self, "interrupted_", False):
            return None
        if self.n_averaged_ and self.n_averaged_ < int(self.n_average):
            return f"interrupted while averaging φ: {self.n_averaged_} of {self.n_average} " \
                   f"SE-steps"
        return f"interrupted after {self.n_iter_done_} of {self.n_iter} SEM iterations"

    def convergence(self):
        """(training seconds so far, validation perplexity) after every validated iteration;
        training seconds = LDA start + LSTM epochs + SE-steps (validation scoring excluded)."""
        out, seconds = [], 0.0
        for h in getattr(self, "history_", []):
            seconds += sum(h.get(k, 0.0) or 0.0 for k in ("lda_seconds", "lstm_seconds",
                                                           "se_seconds"))
            if "validation_perplexity" in h:
                out.append((seconds, h["validation_perplexity"]))
        return out

    def convergence_curve(self, corpus):
        return self._curve_by_refit(corpus)

    def fit_summary(self):
        wanted = int(self.n_iter)
        text = f"{self.n_iter_done_} SEM iterations"
        if self.n_iter_done_ < wanted:
            text += f" (stopped early, of {wanted})"
        if self.early_stopping and self.best_iteration_ is not None:
            text += f", kept iteration {self.best_iteration_} (validation perplexity " \
                    f"{self.best_score_:.1f})"
        if self.n_averaged_:
            text += f", φ averaged over {self.n_averaged_} SE-steps"
        return text

    # -- persistence --------------------------------------------------------------------------
    def _get_state(self):
        meta = {"entropy": str(self.entropy_), "fingerprint": self.fingerprint_,
                "corpus_path": self.corpus_path_, "n_iter_done": int(self.n_iter_done_),
                "best_score": self.best_score_, "history": self.history_,
                "best_validation_iteration": self.best_iteration_,
                "interrupted": bool(getattr(self, "interrupted_", False)),
                "n_averaged": int(self.n_averaged_)}
        vocab = "\n".join(self.vocab_types_).encode("utf-8")
        arrays = {"n_wk": self.n_wk_, "z": self.z_, "prefix_lengths": self.prefix_lengths_,
                  "vocab_utf8": np.frombuffer(vocab, dtype=np.uint8)}
        if self.n_wk_mean_ is not None:
            arrays["n_wk_mean"] = self.n_wk_mean_
        arrays.update(tensors_to_numpy("dynamics.", self.dynamics_.state_dict()))
        extra_meta, extra_arrays = self._extra_state()
        meta.update(extra_meta)
        arrays.update(extra_arrays)
        opt = getattr(self, "_optimizer", None)
        if opt is not None:
            state, steps = optimizer_arrays(opt, self.dynamics_)
            arrays.update(state)
            meta["optimizer_steps"] = steps
        if self.early_stopping and getattr(self, "_best", None) is not None:
            best = self._best
            arrays["best.z"], arrays["best.n_wk"] = best["z"], best["n_wk"]
            arrays.update(tensors_to_numpy("best.dynamics.", best["dynamics"]))
        return meta, arrays

    def _set_state(self, metadata, arrays):
        try:
            self.entropy_ = int(metadata["entropy"])
            self.fingerprint_ = metadata["fingerprint"]
            self.corpus_path_ = metadata.get("corpus_path")
            self.n_iter_done_ = int(metadata["n_iter_done"])
            self._stopper = self._new_stopper()
            self._stopper.best_score = metadata.get("best_score")
            self._stopper.best_step = metadata.get("best_validation_iteration")
            self.history_ = list(metadata.get("history", []))
            self.interrupted_ = bool(metadata.get("interrupted", False))
            self.n_wk_ = np.asarray(arrays["n_wk"], dtype=np.int32)
            self.n_wk_mean_, self.n_averaged_ = None, 0
            if "n_wk_mean" in arrays:
                self.n_wk_mean_ = np.asarray(arrays["n_wk_mean"], dtype=np.float32)
                self.n_averaged_ = int(metadata["n_averaged"])
            self.z_ = np.asarray(arrays["z"], dtype=np.int32)
            self.prefix_lengths_ = np.asarray(arrays["prefix_lengths"], dtype=np.int64)
            self.vocab_types_ = bytes(arrays["vocab_utf8"]).decode("utf-8").split("\n")
            self._restore_extra_state(metadata, arrays)
            if self.device != "cpu" and str(self.device).startswith("cuda") \
                    and not torch.cuda.is_available():
                log.warning("%s: saved for %s, loading on the CPU", self.model_name,
                            self.device)
                self.device = "cpu"
            self.dynamics_ = self._new_dynamics()
            self.dynamics_.load_state_dict(numpy_to_tensors("dynamics.", arrays,
                                                            self.dynamics_.device))
            self._optimizer_state = None
            if "optimizer_steps" in metadata:
                self._optimizer_state = (metadata["optimizer_steps"],
                                         {k: v for k, v in arrays.items()
                                          if k.startswith("optimizer.")})
            self._best = None
            if "best.n_wk" in arrays:
                self._best = {"iteration": self.best_iteration_,
                              "z": np.asarray(arrays["best.z"], dtype=np.int32),
                              "n_wk": np.asarray(arrays["best.n_wk"], dtype=np.int32),
                              "dynamics": numpy_to_tensors("best.dynamics.", arrays,
                                                           self.dynamics_.device)}
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise InputError(f"saved {self.model_name} model is incomplete or corrupt "
                             f"({e})") from None
        V, K = self.n_wk_.shape
        if K != int(self.n_topics) or len(self.vocab_types_) != V or \
                (self.n_wk_mean_ is not None and self.n_wk_mean_.shape != (V, K)):
            raise InputError(f"saved {self.model_name} model has inconsistent array shapes")
        self.topic_word_ = topic_word(self._phi_counts(), float(self.beta))
        self._optimizer = make_optimizer(self.dynamics_, float(self.learning_rate),
                                         float(self.weight_decay))
        if self._optimizer_state is not None:
            load_optimizer(self._optimizer, self._optimizer_state, self.dynamics_)
