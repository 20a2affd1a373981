"""LSTM language models (DESIGN §4 word-/char-LSTM): module, training and exact scoring.

    x_{t-1} = encoder(w_{t-1})          (x_0 = a learned start vector)
    s_t     = LSTM(x_{t-1}, s_{t-1})    (s_0 = 0)
    p(w_t = v | w_<t) = softmax(W_o s_t + b_o)_v          (W_o: V×H)

The encoder is swappable: :class:`WordEmbedding` (a V×E table) or
:class:`lla.nn.char_encoder.CharWordEncoder` (no V×E table).  Input id ``START`` (-1) selects x_0.

Training (:func:`train_epoch`): documents' training prefixes in length buckets, truncated BPTT
over ``bptt`` steps carrying the (detached) state from chunk to chunk, dropout on the LSTM input
and output, Adam, gradient-norm clipping.  The loss is either the exact full softmax or a
*sampled softmax* (Jean et al. 2015): S negatives per chunk, shared by all rows, drawn with
replacement from Q ∝ count^0.75 of the training prefixes; every logit (the target's and the
negatives') is corrected by −log(S·Q(v)) and negatives equal to the row's target are removed.
:func:`early_stopping` runs epochs and keeps the weights of the best validation epoch.

Scoring (:func:`heldout_scores`) is always the exact full softmax: the LM runs through each whole
document (prefix + suffix, the first token predicted from the start state) and log p(w_t | w_<t)
is read at the suffix positions.

torch only, no module-level state, no global RNG: parameters are initialised inside
``torch.random.fork_rng`` from a given seed, dropout masks and negatives are drawn from explicit
``torch.Generator`` objects, batch order from a numpy ``Generator``.
"""

import copy
import logging
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._progress import progress
from ..data.batching import length_buckets, pad_batch
from ..evaluation.ranking import rank_of_true
from .divergence import check_loss, check_parameters
from .early_stopping import EarlyStopping

START = -1  # input id of "no previous word": selects the start vector x_0

log = logging.getLogger(__name__)


# -- randomness ---------------------------------------------------------------------------------
def seed_streams(seed_sequence, device):
    """Independent streams from one ``np.random.SeedSequence``: an int seed for parameter
    initialisation, a ``torch.Generator`` on ``device`` (dropout masks, sampled negatives) and a
    numpy ``Generator`` (batch order)."""
    init_ss, torch_ss, numpy_ss = seed_sequence.spawn(3)
    generator = torch.Generator(device=device)
    generator.manual_seed(int(torch_ss.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    return int(init_ss.generate_state(1)[0]), generator, np.random.default_rng(numpy_ss)


def seeded(build, seed):
    """``build()`` with the global torch RNG seeded with ``seed`` and restored afterwards (CPU
    only: build on the CPU, then move): the module's default initialisation is reproducible and
    global RNG state is left untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def dropout(x, p, generator, training):
    """Inverted dropout with an explicit generator (``F.dropout`` draws from the global RNG)."""
    if not training or p <= 0.0:
        return x
    keep = 1.0 - p
    mask = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) < keep
    return x * mask / keep


# -- the module ---------------------------------------------------------------------------------
class WordEmbedding(nn.Module):
    """x = row ``w`` of a V×E table.  forward: int64 (...) in [0, V) → float (..., E)."""

    def __init__(self, n_types, embedding_size):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(int(n_types), int(embedding_size)))
        nn.init.uniform_(self.weight, -0.1, 0.1)

    def forward(self, word_ids):
        return F.embedding(word_ids, self.weight)


class LSTMLanguageModel(nn.Module):
    """encoder → dropout → LSTM(E→H) → dropout → Linear(H→V).

    Parameters
    ----------
    n_types : V
    encoder : module mapping int64 word ids (...) in [0, V) to float (..., E)
    embedding_size : E (the encoder's output size)
    hidden_size : H
    dropout : probability, applied to the LSTM's input and output (training only)

    Parameters of the module: ``encoder``, ``start`` (E,) = x_0, ``lstm``, ``output``
    (``weight`` (V, H), ``bias`` (V,)).
    """

    def __init__(self, n_types, encoder, embedding_size, hidden_size, *, dropout=0.0):
        super().__init__()
        self.n_types = int(n_types)
        self.embedding_size = int(embedding_size)
        self.hidden_size = int(hidden_size)
        self.dropout = float(dropout)
        self.encoder = encoder
        self.start = nn.Parameter(torch.empty(self.embedding_size).uniform_(-0.1, 0.1))
        self.lstm = nn.LSTM(self.embedding_size, self.hidden_size, batch_first=True)
        self.output = nn.Linear(self.hidden_size, self.n_types)

    @property
    def device(self):
        return self.output.weight.device

    def embed(self, inputs):
        """inputs: int64 (B, T), word ids or ``START`` → float (B, T, E)."""
        is_start = inputs < 0
        x = self.encoder(inputs.clamp(min=0))
        return torch.where(is_start[..., None], self.start.to(x.dtype), x)

    def forward(self, inputs, state=None, *, generator=None):
        """Run the LSTM.

        Parameters
        ----------
        inputs : int64 (B, T): w_{t-1} for each predicted position t (``START`` for t = 1)
        state : (h, c), each (1, B, H), the state before the first step; None = zeros
        generator : torch.Generator on the module's device (dropout masks; training only)

        Returns
        -------
        hidden : float (B, T, H), s_t after dropout (the input of the output layer)
        state : (h, c) after the last step (for truncated BPTT)
        """
        x = dropout(self.embed(inputs), self.dropout, generator, self.training)
        hidden, state = self.lstm(x, state)
        return dropout(hidden, self.dropout, generator, self.training), state

    def log_probs(self, hidden):
        """Exact log p(· | w_<t): float (..., H) → float (..., V) (full softmax)."""
        return F.log_softmax(self.output(hidden), dim=-1)

    def n_parameters(self):
        return sum(p.numel() for p in self.parameters())


# -- losses -------------------------------------------------------------------------------------
class UnigramProposal:
    """Q(v) ∝ (count_v)^power over the V types, for the negatives of the sampled softmax.

    ``log_expected[v] = log(S · Q(v))``: the expected number of copies of v among S negatives
    drawn with replacement, which every sampled logit is corrected by."""

    def __init__(self, counts, n_samples, *, power=0.75, device="cpu"):
        q = np.asarray(counts, dtype=np.float64) ** power
        q = q / q.sum()
        self.n_samples = int(n_samples)
        self.q = torch.as_tensor(q, dtype=torch.float32, device=device)             # (V,)
        with np.errstate(divide="ignore"):
            log_expected = np.log(self.n_samples * q)
        self.log_expected = torch.as_tensor(log_expected, dtype=torch.float32, device=device)

    def sample(self, generator):
        """int64 (S,): negatives drawn from Q with replacement."""
        return torch.multinomial(self.q, self.n_samples, replacement=True, generator=generator)


def sampled_softmax_loss(hidden, targets, output, negatives, log_expected):
    """Mean sampled-softmax cross-entropy (Jean et al. 2015).

    Parameters
    ----------
    hidden : float (N, H); targets : int64 (N,); output : nn.Linear(H → V)
    negatives : int64 (S,), shared by the N rows
    log_expected : float (V,), log(S · Q(v))

    Returns
    -------
    scalar: mean over rows of −log softmax([ℓ_target, ℓ_neg_1 .. ℓ_neg_S])_0 with
    ℓ_v = W_v · h + b_v − log(S·Q(v)); a negative equal to the row's target is masked out.
    """
    w_true = output.weight[targets]                                              # (N, H)
    true_logit = (hidden * w_true).sum(-1) + output.bias[targets] - log_expected[targets]
    neg_logit = hidden @ output.weight[negatives].T + (output.bias[negatives]
                                                       - log_expected[negatives])  # (N, S)
    neg_logit = neg_logit.masked_fill(negatives[None, :] == targets[:, None], float("-inf"))
    logits = torch.cat([true_logit[:, None], neg_logit], dim=1)
    return -F.log_softmax(logits, dim=1)[:, 0].mean()


def full_softmax_loss(hidden, targets, output):
    """Mean exact cross-entropy: hidden (N, H), targets (N,) → scalar."""
    return F.cross_entropy(output(hidden), targets)


# -- training -----------------------------------------------------------------------------------
def _shifted(padded):
    """(B, T) tokens → (B, T) inputs [START, w_1, .., w_{T-1}]."""
    inputs = np.empty_like(padded)
    inputs[:, 0] = START
    inputs[:, 1:] = padded[:, :-1]
    return inputs


def train_epoch(model, corpus, optimizer, *, batch_size, bptt, clip, rng, generator,
                proposal=None, show_progress=None, desc="epoch"):
    """One pass of truncated-BPTT training over ``corpus``'s training prefixes.

    Documents are grouped by length (:func:`lla.data.batching.length_buckets`, batch order from
    ``rng``); each batch is cut into chunks of ``bptt`` steps and the state is carried (detached)
    from one chunk to the next.  Padding is masked out of the loss.  ``proposal`` (a
    :class:`UnigramProposal`) selects the sampled softmax; None the full softmax.

    Returns
    -------
    dict: ``loss`` (token-weighted mean training loss, nats), ``tokens``, ``seconds``,
    ``tokens_per_s``.
    """
    model.train()
    device = model.device
    total_loss, total_tokens = 0.0, 0
    start = time.perf_counter()
    bar = progress(total=int(corpus.n_prefix_tokens), desc=desc, unit="tok", enabled=show_progress)
    try:
        for docs in length_buckets(corpus, batch_size, part="prefix", rng=rng):
            padded, lengths = pad_batch(corpus, docs, part="prefix")
            inputs = torch.as_tensor(_shifted(padded), device=device)
            targets = torch.as_tensor(padded, device=device)
            valid = torch.as_tensor(np.arange(padded.shape[1])[None, :] < lengths[:, None],
                                    device=device)
            state = None
            for t0 in range(0, padded.shape[1], bptt):
                sl = slice(t0, t0 + bptt)
                hidden, state = model(inputs[:, sl], state, generator=generator)
                state = tuple(s.detach() for s in state)
                mask = valid[:, sl]
                h, y = hidden[mask], targets[:, sl][mask]
                if proposal is None:
                    loss = full_softmax_loss(h, y, model.output)
                else:
                    loss = sampled_softmax_loss(h, y, model.output, proposal.sample(generator),
                                                proposal.log_expected)
                n = int(y.numel())
                total_loss += check_loss(float(loss.detach()), "LSTM LM loss") * n
                # the gradient is the token *sum* over the nominal batch_size·bptt: a ragged last
                # chunk of a few tokens makes a proportionally small step, not a full Adam step
                # fitted to those few tokens
                optimizer.zero_grad(set_to_none=True)
                (loss * (y.numel() / (batch_size * bptt))).backward()
                if clip:
                    nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                total_tokens += n
                bar.update(n)
                bar.set_postfix(loss=f"{total_loss / max(total_tokens, 1):.3f}", refresh=False)
    finally:
        bar.close()
    check_parameters(model, "LSTM LM")
    seconds = time.perf_counter() - start
    return {"loss": total_loss / max(total_tokens, 1), "tokens": total_tokens,
            "seconds": seconds, "tokens_per_s": total_tokens / max(seconds, 1e-12)}


def early_stopping(model, n_epochs, run_epoch, validate=None, *, patience=2):
    """Run up to ``n_epochs`` epochs; with ``validate`` keep the weights of the epoch with the
    lowest validation perplexity and stop after ``patience`` epochs without improvement.

    Parameters
    ----------
    run_epoch : callable(epoch: int) -> dict of training statistics
    validate : callable() -> validation perplexity (float), or None (no early stopping)

    Returns
    -------
    history : list of dicts (one per epoch: the training statistics, ``epoch``, and
        ``valid_perplexity`` when validating)
    best_epoch : the number of epochs of the kept weights
    """
    history, best_epoch, best_state = [], 0, None
    stopper = EarlyStopping(patience=int(patience))
    for epoch in range(1, int(n_epochs) + 1):
        stats = dict(run_epoch(epoch), epoch=epoch)
        if validate is not None:
            stats["valid_perplexity"] = float(validate())
        history.append(stats)
        log.info("epoch %d: %s", epoch, {k: round(v, 4) if isinstance(v, float) else v
                                         for k, v in stats.items()})
        if validate is None:
            best_epoch = epoch
            continue
        if stopper.record(epoch, stats["valid_perplexity"]):
            best_epoch = epoch
            best_state = copy.deepcopy(model.state_dict())
        elif stopper.exhausted(epoch):
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history, best_epoch


# -- exact scoring ------------------------------------------------------------------------------
@torch.no_grad()
def heldout_scores(model, corpus, *, batch_size=32, chunk=256, ranks=False, consume=None,
                   max_rows=2048):
    """Exact full-softmax log p(w_t | w_<t) at every suffix position of ``corpus``.

    Each document runs through the LM whole (prefix + suffix, ``chunk`` steps at a time with the
    state carried), so suffix tokens condition on everything before them.  ``consume``:
    optional callback(out, log_probs (m, V) float32 numpy, True, None) with the whole predictive
    of chunks of suffix positions (``out``: their indices in suffix order), for next-item ranks
    and predictions (:mod:`lla.prediction`).

    Returns
    -------
    log_probs : float64 (n_suffix_tokens,), documents in order, tokens in order
    ranks : int64 (n_suffix_tokens,) (1-based rank of the true token among all V under
        p(· | w_<t), :func:`lla.evaluation.rank_of_true`) if ``ranks``, else None
    """
    was_training = model.training
    model.eval()
    device = model.device
    suffix_start = np.concatenate([[0], np.cumsum(corpus.suffix_lengths)]).astype(np.int64)
    out = np.zeros(int(suffix_start[-1]), np.float64)
    rank_out = np.zeros(len(out), np.int64) if ranks else None
    try:
        for docs in length_buckets(corpus, batch_size, part="suffix"):
            padded, lengths = pad_batch(corpus, docs, part="whole")
            first = corpus.prefix_lengths[docs]                                    # (B,)
            inputs = torch.as_tensor(_shifted(padded), device=device)
            state = None
            for t0 in range(0, padded.shape[1], chunk):
                hidden, state = model(inputs[:, t0:t0 + chunk], state)
                t = np.arange(t0, min(t0 + chunk, padded.shape[1]))
                sel = (t[None, :] >= first[:, None]) & (t[None, :] < lengths[:, None])  # (B, c)
                if not sel.any():
                    continue
                rows, cols = np.nonzero(sel)
                dest = suffix_start[docs[rows]] + (t[cols] - first[rows])
                h = hidden[torch.as_tensor(rows, device=device),
                           torch.as_tensor(cols, device=device)]                   # (n, H)
                y = torch.as_tensor(padded[rows, t[cols]], device=device)          # (n,)
                for r0 in range(0, len(rows), max_rows):
                    part = slice(r0, r0 + max_rows)
                    lp = model.log_probs(h[part])                                   # (m, V)
                    out[dest[part]] = lp.gather(1, y[part, None])[:, 0].double().cpu().numpy()
                    if ranks:
                        rank_out[dest[part]] = rank_of_true(lp.cpu().numpy(),
                                                            y[part].cpu().numpy())
                    if consume is not None:
                        consume(dest[part], lp.cpu().numpy(), True, None)
    finally:
        model.train(was_training)
    return out, rank_out
