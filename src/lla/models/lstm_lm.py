"""word-LSTM and char-LSTM language-model baselines (DESIGN §4), behind the shared interface.

Training (``fit``), with ``validation=True`` (the default):

1. the training prefixes are re-split 60/40 (:meth:`lla.Corpus.prefix_corpus`); the LM trains
   on the first part and the full-softmax perplexity of the second part decides early stopping
   (``patience`` epochs without improvement; at most ``n_epochs``);
2. with ``refit=True`` (the default) a fresh LM with the same initialisation is then trained on
   the whole prefixes for the number of epochs that was best in step 1; otherwise the early-
   stopped LM of step 1 is kept.

``validation=False`` trains on the whole prefixes for ``n_epochs`` epochs.  The suffixes are
never seen.  Held-out scoring is always the exact full softmax (DESIGN §3).
"""

from dataclasses import replace

import numpy as np
import torch

from .. import params
from ..errors import InputError
from ..evaluation import perplexity
from ..nn.char_encoder import CharWordEncoder, build_char_table
from ..nn.language_model import (LSTMLanguageModel, UnigramProposal, WordEmbedding,
                                 early_stopping, heldout_scores, seed_streams, seeded,
                                 train_epoch)
from ..nn.training import make_optimizer
from ..params import Param
from ._neural_base import NeuralBaseline

#: the LSTM language models' hyper-parameters (DESIGN §6); the defaults are the constructors'
LSTM_LM_PARAMETERS = {
    "embedding_size": params.EMBEDDING,
    "hidden_size": params.HIDDEN,
    "n_epochs": replace(params.EPOCHS, compare_flag="--epochs"),
    "batch_size": params.BATCH,
    "bptt": params.BPTT,
    "learning_rate": params.LEARNING_RATE,
    "dropout": params.DROPOUT,
    "sampled_softmax": Param("int", low=0, metavar="S",
                             help="negatives of the sampled-softmax training loss (0: exact)"),
    "clip": Param("float", low=0, help="maximum gradient norm (0: none)"),
    "patience": params.PATIENCE,
    "validation": Param("bool", compare_flag="--no-lm-validation",
                        help="word-/char-LSTM: early stopping on a validation split of the "
                             "prefixes (otherwise exactly --epochs epochs on the whole prefixes)"),
    "refit": Param("bool", help="after early stopping, retrain on the whole prefixes"),
    "n_threads": params.THREADS,
    "device": params.DEVICE,
    "random_state": params.SEED,
    "show_progress": params.PROGRESS,
}


class _LSTMBase(NeuralBaseline):
    """Shared training, scoring and persistence of :class:`WordLSTM` and :class:`CharLSTM`."""

    def _uses_sampled_softmax(self, V):
        """Sampled softmax only when it samples fewer than half the vocabulary; otherwise the
        exact softmax is as cheap and has no sampling noise."""
        return 0 < int(self.sampled_softmax) < V // 2

    # -- the module ---------------------------------------------------------------------------
    def _build(self, V, counts, seed):
        """A freshly initialised :class:`LSTMLanguageModel` on ``self.device``; the output bias
        starts at the log unigram distribution of the training prefixes (add-one)."""
        def build():
            module = LSTMLanguageModel(V, self._encoder(V), int(self.embedding_size),
                                       int(self.hidden_size), dropout=float(self.dropout))
            with torch.no_grad():
                p = (np.asarray(counts, np.float64) + 1.0) / (np.sum(counts) + V)
                module.output.bias.copy_(torch.as_tensor(np.log(p), dtype=torch.float32))
            return module
        return seeded(build, seed).to(self.device)

    # -- training -----------------------------------------------------------------------------
    def _prepare(self, corpus):
        self._prepare_vocabulary(corpus.vocab)

    def _train(self, corpus, seed_sequence, n_epochs, *, validate_on=None, stage="train"):
        """Train a fresh module on ``corpus``'s prefixes.  Returns (module, history, best
        number of epochs)."""
        V = corpus.n_types
        counts = corpus.prefix_counts()
        init_seed, generator, rng = seed_streams(seed_sequence, self.device)
        module = self._build(V, counts, init_seed)
        proposal = (UnigramProposal(counts, int(self.sampled_softmax), device=self.device)
                    if self._uses_sampled_softmax(V) else None)
        optimizer = make_optimizer(module, float(self.learning_rate))   # Adam

        def run_epoch(epoch):
            return train_epoch(module, corpus, optimizer, batch_size=int(self.batch_size),
                               bptt=int(self.bptt), clip=float(self.clip), rng=rng,
                               generator=generator, proposal=proposal,
                               show_progress=self.show_progress,
                               desc=f"{self.model_name} {stage} epoch {epoch}")

        validate = None
        if validate_on is not None:
            def validate():
                log_probs, _ = heldout_scores(module, validate_on,
                                              batch_size=int(self.batch_size))
                return perplexity(log_probs)
        history, best_epoch = early_stopping(module, n_epochs, run_epoch, validate,
                                             patience=int(self.patience))
        for h in history:
            h["stage"] = stage
        return module, history, best_epoch

    # -- evaluation ---------------------------------------------------------------------------
    def heldout_log_prob(self, corpus, *, n_particles=None):
        """Exact full-softmax log p(w_t | w_<t) (natural log) for every suffix token, the LM
        run through the whole document: float64 (n_suffix_tokens,), documents in order.
        (``n_particles`` is ignored: scoring is exact.)"""
        self._check_vocabulary(corpus)
        return heldout_scores(self.module_, corpus, batch_size=int(self.batch_size))[0]

    def _predictive(self, corpus, consume, *, n_particles=None, explain=False):
        """The full softmax over V at every held-out position (log-probabilities)."""
        self._check_vocabulary(corpus)
        heldout_scores(self.module_, corpus, batch_size=int(self.batch_size), consume=consume)


class WordLSTM(_LSTMBase):
    """Word-level LSTM language model: V×E embedding → LSTM(H) → softmax over V.

    Parameters
    ----------
    embedding_size, hidden_size : E, H
    n_epochs : maximum number of epochs (of the validation stage; see the module docstring)
    batch_size : documents per batch (grouped by length)
    bptt : truncated-BPTT length (steps per gradient update; the state is carried across)
    learning_rate : Adam learning rate
    dropout : on the LSTM input and output
    sampled_softmax : S, negatives of the sampled-softmax training loss (0 = exact softmax; the
        exact softmax is also used when S >= V/2); scoring is always exact
    clip : maximum gradient norm (0 = no clipping)
    patience : epochs without validation improvement before stopping
    validation, refit : see the module docstring
    n_threads : torch threads (None: torch's default; :mod:`lla._threads`)
    device : "cpu", "cuda", ...
    random_state : int, SeedSequence or None (same seed and same n_threads → same model on the
        CPU)
    show_progress : progress bar per epoch (None: only on a terminal)
    """

    model_name = "word-lstm"
    _parameters = LSTM_LM_PARAMETERS

    def __init__(self, embedding_size=128, hidden_size=128, *, n_epochs=20, batch_size=32,
                 bptt=35, learning_rate=2e-3, dropout=0.2, sampled_softmax=1024, clip=1.0,
                 patience=2, validation=True, refit=True, n_threads=None, device="cpu",
                 random_state=None, show_progress=None):
        self._store_arguments(locals())

    def _encoder(self, V):
        return WordEmbedding(V, int(self.embedding_size))

    def _prepare_vocabulary(self, vocab):
        pass

    def _restore_extra_state(self, metadata):
        pass

    def _extra_state(self):
        return {}


class CharLSTM(_LSTMBase):
    """Character-aware LSTM language model: char-BiLSTM word encoder (Ling et al. 2015, as
    char-LLA's) → LSTM(H) → softmax over V.  No V×E input table; the output softmax is V×H.

    Parameters as :class:`WordLSTM`, plus ``char_embedding`` (character embedding size),
    ``char_hidden`` (state size of each direction of the character LSTM) and
    ``max_word_length`` (characters kept per type, None = all).
    """

    model_name = "char-lstm"
    _parameters = {
        **LSTM_LM_PARAMETERS,
        "char_embedding": Param("int", low=1, help="character embedding size"),
        "char_hidden": Param("int", low=1, help="state size of each direction of the "
                                                "character LSTM"),
        "max_word_length": Param("int", low=1, none=True,
                                 help="characters kept per type (None: all)"),
    }

    def __init__(self, embedding_size=128, hidden_size=128, *, char_embedding=16, char_hidden=64,
                 max_word_length=None, n_epochs=20, batch_size=32, bptt=35, learning_rate=2e-3,
                 dropout=0.2, sampled_softmax=1024, clip=1.0, patience=2, validation=True,
                 refit=True, n_threads=None, device="cpu", random_state=None,
                 show_progress=None):
        self._store_arguments(locals())

    def _prepare_vocabulary(self, vocab):
        self.vocab_types_ = list(vocab.types)

    def _restore_extra_state(self, metadata):
        self.vocab_types_ = list(metadata["vocab_types"])

    def _extra_state(self):
        return {"vocab_types": self.vocab_types_}

    def _encoder(self, V):
        chars, table, lengths = build_char_table(self.vocab_types_,
                                                 max_word_length=self.max_word_length)
        if table.shape[0] != V:
            raise InputError(f"the character table covers {table.shape[0]} types, not V = {V}")
        return CharWordEncoder(len(chars), int(self.char_embedding), int(self.char_hidden),
                               int(self.embedding_size), char_table=(table, lengths))
