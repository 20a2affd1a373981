"""Bag-of-words autoencoder baseline (DESIGN §4), behind the shared interface.

    x_d    = counts of the words of d's prefix / |prefix|                    (V,)
    code_d = tanh(W_2 tanh(W_1 x_d + b_1) + b_2)                          (code_size,)
    p(w | d) = softmax(W_o code_d + b_o)_w                                   (V,)

Training maximises the multinomial log-likelihood of each training prefix's own bag of words
(Σ_w n_dw log p(w | d), per token), with dropout on the input bag, Adam and gradient clipping.
Held-out words are scored like LDA's document completion (DESIGN §3): every suffix token of d
gets log p(w_t | d) from the code of d's *prefix*; the suffix never changes the code.

Early stopping (``validation=True``) and ``refit`` work as for the LSTM baselines
(:mod:`lla.models.lstm_lm`): train on the first 60 % of every prefix, validate on the rest
(:meth:`lla.Corpus.prefix_corpus`), then retrain on the whole prefixes for the best number of
epochs.
"""

import time
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from .. import params
from .._progress import progress
from ..evaluation import perplexity
from ..nn.autoencoder import BagOfWordsAutoencoder
from ..nn.divergence import check_loss, check_parameters
from ..nn.language_model import early_stopping, seed_streams, seeded
from ..nn.training import make_optimizer
from ..params import Param
from ._neural_base import NeuralBaseline


def _bags(corpus, docs, part, V):
    """Word counts float32 (B, V) of the ``part`` ("prefix"/"suffix") of the given documents."""
    get = corpus.prefix if part == "prefix" else corpus.suffix
    return np.stack([np.bincount(np.asarray(get(int(d))), minlength=V) for d in docs]
                    ).astype(np.float32)


def _normalise(counts):
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)


class Autoencoder(NeuralBaseline):
    """Feed-forward bag-of-words autoencoder: prefix bag → hidden → code → softmax over V.

    Parameters
    ----------
    code_size : the low-dimensional code
    hidden_size : the encoder's hidden layer
    n_epochs : maximum number of epochs (of the validation stage)
    batch_size : documents per minibatch
    learning_rate : Adam learning rate
    dropout : dropout on the input bag of words (training only)
    clip : maximum gradient norm (0 = none)
    patience : epochs without validation improvement before stopping
    validation, refit : early stopping on the re-split prefixes, then retraining on the whole
        prefixes (see the module docstring)
    n_threads, device, random_state, show_progress : as for :class:`lla.WordLSTM`
    """

    model_name = "autoencoder"
    _parameters = {
        "code_size": Param("int", low=1, flag="--code-size", metavar="C",
                           help="autoencoder: code size"),
        # lla compare leaves the autoencoder its own sizes (the LSTMs' would not suit it)
        "hidden_size": replace(params.HIDDEN, compare_flag=None),
        "n_epochs": params.EPOCHS,
        "batch_size": params.BATCH,
        "learning_rate": params.LEARNING_RATE,
        "dropout": params.DROPOUT,
        "clip": Param("float", low=0, help="maximum gradient norm (0: none)"),
        "patience": params.PATIENCE,
        "validation": Param("bool", help="early stopping on a validation split of the prefixes"),
        "refit": Param("bool", help="after early stopping, retrain on the whole prefixes"),
        "n_threads": params.THREADS,
        "device": params.DEVICE,
        "random_state": params.SEED,
        "show_progress": params.PROGRESS,
    }

    def __init__(self, code_size=50, hidden_size=256, *, n_epochs=200, batch_size=32,
                 learning_rate=1e-3, dropout=0.5, clip=1.0, patience=10, validation=True,
                 refit=True, n_threads=None, device="cpu", random_state=None,
                 show_progress=None):
        self._store_arguments(locals())

    def _build(self, V, counts, seed):
        def build():
            module = BagOfWordsAutoencoder(V, int(self.hidden_size), int(self.code_size),
                                           dropout=float(self.dropout))
            with torch.no_grad():
                p = (np.asarray(counts, np.float64) + 1.0) / (np.sum(counts) + V)
                module.output.bias.copy_(torch.as_tensor(np.log(p), dtype=torch.float32))
            return module
        return seeded(build, seed).to(self.device)

    # -- training -----------------------------------------------------------------------------
    def _train(self, corpus, seed_sequence, n_epochs, *, validate_on=None, stage="train"):
        V = corpus.n_types
        init_seed, generator, rng = seed_streams(seed_sequence, self.device)
        module = self._build(V, corpus.prefix_counts(), init_seed)
        optimizer = make_optimizer(module, float(self.learning_rate))   # Adam
        docs = np.flatnonzero(corpus.prefix_lengths > 0)
        counts = _bags(corpus, docs, "prefix", V)                        # (D, V)
        bags = _normalise(counts)

        def run_epoch(epoch):
            module.train()
            start, total, n_tok = time.perf_counter(), 0.0, 0
            order = rng.permutation(len(docs))
            bar = progress(total=len(docs), desc=f"autoencoder {stage} epoch {epoch}",
                           unit="doc", enabled=self.show_progress)
            for b0 in range(0, len(order), int(self.batch_size)):
                rows = order[b0:b0 + int(self.batch_size)]
                c = torch.as_tensor(counts[rows], device=self.device)
                log_p = module(torch.as_tensor(bags[rows], device=self.device),
                               generator=generator)
                loss = -(c * log_p).sum() / c.sum()
                total += check_loss(float(loss.detach()), "autoencoder loss") * float(c.sum())
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.clip:
                    nn.utils.clip_grad_norm_(module.parameters(), float(self.clip))
                optimizer.step()
                n_tok += int(c.sum())
                bar.update(len(rows))
            bar.close()
            check_parameters(module, "autoencoder")
            seconds = time.perf_counter() - start
            return {"loss": total / max(n_tok, 1), "tokens": n_tok, "seconds": seconds,
                    "tokens_per_s": n_tok / max(seconds, 1e-12)}

        validate = None
        if validate_on is not None:
            def validate():
                return perplexity(_score(module, validate_on, int(self.batch_size)))
        history, best = early_stopping(module, n_epochs, run_epoch, validate,
                                       patience=int(self.patience))
        for h in history:
            h["stage"] = stage
        return module, history, best

    # -- evaluation ---------------------------------------------------------------------------
    def heldout_log_prob(self, corpus, *, n_particles=None):
        """log p(w_t | code of d's prefix) for every suffix token (document completion: the same
        distribution at every suffix position of d): float64 (n_suffix_tokens,)."""
        self._check_vocabulary(corpus)
        return _score(self.module_, corpus, int(self.batch_size))

    def _predictive(self, corpus, consume, *, n_particles=None, explain=False):
        """p(· | code of d's prefix) at every held-out position of d (log-probabilities)."""
        self._check_vocabulary(corpus)
        _, doc_ptr = corpus.suffix_arrays()
        batch = int(self.batch_size)
        for b0 in range(0, len(corpus), batch):
            docs = np.arange(b0, min(b0 + batch, len(corpus)))
            log_p = _predict(self.module_, corpus, docs)                   # (B, V)
            for row, d in enumerate(docs):
                lo, hi = int(doc_ptr[d]), int(doc_ptr[d + 1])
                if hi > lo:
                    scores = np.broadcast_to(log_p[row], (hi - lo, log_p.shape[1]))
                    consume(np.arange(lo, hi), scores, True, None)

    def log_word_probs(self, corpus):
        """log p(w | d) float32 (n_docs, V) from each document's prefix."""
        self._check_vocabulary(corpus)
        docs = np.arange(len(corpus))
        return _predict(self.module_, corpus, docs)



@torch.no_grad()
def _predict(module, corpus, docs, batch_size=256):
    """log p(w | d's prefix) float32 (len(docs), V)."""
    module.eval()
    out = []
    for b0 in range(0, len(docs), batch_size):
        bags = _normalise(_bags(corpus, docs[b0:b0 + batch_size], "prefix", module.n_types))
        out.append(module(torch.as_tensor(bags, device=module.device)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, module.n_types), np.float32)


def _score(module, corpus, batch_size):
    """log p(w_t | code of d's prefix) float64 (n_suffix,), documents in order."""
    lp_out = []
    for b0 in range(0, len(corpus), batch_size):
        docs = np.arange(b0, min(b0 + batch_size, len(corpus)))
        log_p = _predict(module, corpus, docs)                             # (B, V)
        for row, d in enumerate(docs):
            w = np.asarray(corpus.suffix(int(d)), dtype=np.int64)
            lp_out.append(log_p[row, w].astype(np.float64))
    return np.concatenate(lp_out) if lp_out else np.zeros(0)
