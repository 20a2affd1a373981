"""Teacher-forced training of :class:`lla.nn.dynamics.Dynamics` on topic sequences (M-step).

Maximises Σ_d Σ_t log p(z_t | c_<t) = Σ log θ_{t, z_t} (c = z for topic-LLA, c = w for
word-/char-LLA) with Adam(W) on minibatches of documents:

* documents are bucketed by length (sorted, random tie-break) into minibatches of
  ``batch_size`` documents, and the minibatches are visited in random order;
* truncated BPTT: a minibatch is cut into windows of ``bptt`` steps; the LSTM state is carried
  (detached) from one window to the next, so long documents keep their whole history in the
  forward pass while gradients flow through at most ``bptt`` steps;
* padding after a document's end is masked out of the loss (it cannot influence earlier steps).

torch only; randomness comes from an explicit numpy Generator (batch order) and a
``torch.Generator`` (dropout masks).
"""

import numpy as np
import torch
from torch.nn import functional as F

from .divergence import check_loss, check_parameters
from .dynamics import START

IGNORE = -100


def make_optimizer(dynamics, learning_rate=1e-3, weight_decay=0.0):
    """AdamW over every parameter of ``dynamics`` (decoupled weight decay)."""
    return torch.optim.AdamW(dynamics.parameters(), lr=learning_rate, weight_decay=weight_decay)


def minibatches(lengths, batch_size, rng):
    """Lists of document indices: length-bucketed, in random order.  lengths: int (D,)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    keep = np.flatnonzero(lengths > 0)
    order = keep[np.lexsort((rng.random(len(keep)), -lengths[keep]))]
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _padded(z, ptr, docs, device, symbols=None):
    """inputs (B, L) = [START, c_1..c_{L-1}], targets (B, L) = z_1..z_L (IGNORE after the end).

    c = ``symbols`` (e.g. the words, for word-/char-LLA) or, when None, z itself (topic-LLA).
    Inputs after a document's end are 0 (they are causal padding: never seen by a target)."""
    lens = ptr[docs + 1] - ptr[docs]
    L = int(lens.max())
    targets = np.full((len(docs), L), IGNORE, dtype=np.int64)
    for i, d in enumerate(docs):
        targets[i, :lens[i]] = z[ptr[d]:ptr[d + 1]]
    inputs = np.empty_like(targets)
    inputs[:, 0] = START
    if symbols is None:
        inputs[:, 1:] = np.maximum(targets[:, :-1], 0)
    else:
        prev = np.zeros_like(targets)
        for i, d in enumerate(docs):
            prev[i, :lens[i]] = symbols[ptr[d]:ptr[d + 1]]
        inputs[:, 1:] = prev[:, :-1]
    return (torch.as_tensor(inputs, device=device), torch.as_tensor(targets, device=device))


def _as_documents(lengths, z, symbols):
    """int64 lengths (D,), document offsets ptr (D+1,), z (N,) and symbols (N,) or None."""
    lengths = np.asarray(lengths, dtype=np.int64)
    ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    z = np.asarray(z, dtype=np.int64)
    if symbols is not None:
        symbols = np.asarray(symbols, dtype=np.int64)
    return lengths, ptr, z, symbols


def train_epoch(dynamics, optimizer, z, lengths, *, batch_size=32, bptt=64, rng, generator,
                clip=1.0, progress=None, symbols=None):
    """One pass over all documents.  Returns the mean training loss −log θ_{t,z_t} (nats/token,
    with dropout, as trained).

    z : int (N,), topics of all tokens (the targets), documents concatenated; lengths : int (D,)
    rng : np.random.Generator (batch order); generator : torch.Generator on the model's device
    symbols : optional int (N,), the conditioning sequence c fed to the LSTM (x_{t-1} =
        encoder(c_{t-1})); None = z itself (topic-LLA).  Word-/char-LLA pass the words.
    """
    device = dynamics.device
    lengths, ptr, z, symbols = _as_documents(lengths, z, symbols)
    dynamics.train()
    total, count = 0.0, 0
    K = dynamics.n_topics
    for docs in minibatches(lengths, batch_size, rng):
        inputs, targets = _padded(z, ptr, docs, device, symbols)
        state = None
        for a in range(0, inputs.shape[1], bptt):
            tgt = targets[:, a:a + bptt]
            log_theta, state = dynamics(inputs[:, a:a + bptt], state, generator=generator)
            n = int((tgt != IGNORE).sum())
            loss = F.nll_loss(log_theta.reshape(-1, K), tgt.reshape(-1), ignore_index=IGNORE,
                              reduction="sum")
            total += check_loss(float(loss.detach()), "LSTM loss")   # before the step
            optimizer.zero_grad(set_to_none=True)
            (loss / n).backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(dynamics.parameters(), clip)
            optimizer.step()
            state = (state[0].detach(), state[1].detach())
            count += n
        if progress is not None:
            progress.update(int(lengths[docs].sum()))
    check_parameters(dynamics, "LSTM")
    dynamics.eval()
    return total / max(count, 1)


@torch.no_grad()
def sequence_loss(dynamics, z, lengths, *, batch_size=64, symbols=None):
    """Mean −log θ_{t,z_t} (nats/token) without dropout: the teacher-forced fit of ``z``
    (``symbols``: the LSTM's input sequence, as in :func:`train_epoch`)."""
    device = dynamics.device
    lengths, ptr, z, symbols = _as_documents(lengths, z, symbols)
    was = dynamics.training
    dynamics.eval()
    total, count = 0.0, 0
    order = np.argsort(-lengths, kind="stable")
    order = order[lengths[order] > 0]
    for i in range(0, len(order), batch_size):
        docs = order[i:i + batch_size]
        inputs, targets = _padded(z, ptr, docs, device, symbols)
        log_theta, _ = dynamics(inputs)
        total += float(F.nll_loss(log_theta.reshape(-1, dynamics.n_topics), targets.reshape(-1),
                                  ignore_index=IGNORE, reduction="sum"))
        count += int((targets != IGNORE).sum())
    dynamics.train(was)
    return total / max(count, 1)
