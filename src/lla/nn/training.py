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

from ..distributed import all_reduce, collective, world_size
from .divergence import check_loss, check_parameters
from .dynamics import START

IGNORE = -100


def make_optimizer(module, learning_rate=1e-3, weight_decay=0.0):
    """AdamW over every parameter of ``module`` (decoupled weight decay; with
    ``weight_decay=0`` it is Adam) — the optimizer of every network lla trains.

    torch's fused kernel (one pass over all parameters) where the parameters' device has one
    (CPU, CUDA): the default per-tensor loop made 43–47 % of a word-LSTM training step on the
    CPU, for its V×E input and V×H output tables (docs/benchmarks.md, roofline)."""
    parameters = list(module.parameters())
    fused = bool(parameters) and all(p.device.type in ("cpu", "cuda") and p.is_floating_point()
                                     for p in parameters)
    return torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=weight_decay,
                             fused=fused or None)


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


def _bucket_lengths(lengths, per):
    """Lengths of the documents of every length bucket (sorted longest first, ``per`` documents
    per bucket) of one rank: list of int64 arrays.  Depends only on the lengths (not on the
    random tie-break that decides *which* documents of equal length share a bucket)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    ordered = np.sort(lengths[lengths > 0])[::-1]
    return [ordered[i:i + per] for i in range(0, len(ordered), per)]


def sharded_plan(shard_lengths, batch_size, bptt):
    """The optimizer steps of one data-parallel epoch, the same on every rank.

    Every rank r buckets its own documents (lengths ``shard_lengths[r]``) longest first into
    minibatches of ``ceil(batch_size / W)`` documents; step j pairs bucket j of every rank (a
    rank without one joins with an empty minibatch), so each optimizer step sees about
    ``batch_size`` documents in all, as in one process, and the paired buckets have similar
    lengths.  Returns (plan, documents per rank and step): plan is a list over buckets j of
    (L, n_tokens) where L = the longest document of bucket j over all ranks (every rank pads its
    minibatch to L and runs ⌈L / bptt⌉ windows) and n_tokens (⌈L / bptt⌉,) int64 the number of
    target tokens of every window summed over ranks (the loss normaliser)."""
    W = len(shard_lengths)
    per = max(1, -(-int(batch_size) // W))
    buckets = [_bucket_lengths(lengths, per) for lengths in shard_lengths]
    plan = []
    for j in range(max((len(b) for b in buckets), default=0)):
        lens = np.concatenate([b[j] for b in buckets if j < len(b)])
        L = int(lens.max())
        starts = np.arange(0, L, int(bptt), dtype=np.int64)[:, None]
        n_tokens = np.clip(lens[None, :] - starts, 0, int(bptt)).sum(axis=1)
        plan.append((L, n_tokens))
    return plan, per


def train_epoch_sharded(model, optimizer, z, lengths, shard_lengths, *, batch_size=32, bptt=64,
                        order_rng, rng, generator, clip=1.0, symbols=None):
    """One data-parallel epoch (``DistributedDataParallel``) on this rank's documents.

    Every rank calls it at the same time with its own documents; the schedule of optimizer steps
    (:func:`sharded_plan`) is computed from every rank's document lengths and is identical on
    all ranks, so every rank makes the same number of forward/backward passes (a rank that has
    run out of documents, or whose minibatch is shorter, runs padding that contributes zero
    loss) and no rank waits forever at DDP's gradient all-reduce.  The loss of every window is
    Σ over all ranks' target tokens of −log θ_{t,z_t}, divided by their total number: the same
    objective as :func:`train_epoch` with a minibatch made of the ranks' minibatches.

    model : the DDP-wrapped :class:`lla.nn.dynamics.Dynamics` (``model.module``)
    z, lengths, symbols : this rank's documents, as in :func:`train_epoch`
    shard_lengths : list of W int arrays, the document lengths of every rank (this rank's
        among them), the same on every rank
    order_rng : np.random.Generator in the same state on every rank (the order of the steps)
    rng : this rank's np.random.Generator (which equal-length documents share a minibatch)
    generator : torch.Generator of this rank (dropout masks)

    Returns the mean training loss over every rank's tokens (nats/token), the same on all
    ranks.
    """
    dynamics = model.module
    lengths, ptr, z, symbols = _as_documents(lengths, z, symbols)
    W = world_size()
    plan, per = sharded_plan(shard_lengths, batch_size, bptt)
    keep = np.flatnonzero(lengths > 0)
    order = keep[np.lexsort((rng.random(len(keep)), -lengths[keep]))]
    mine = [order[i:i + per] for i in range(0, len(order), per)]
    dynamics.train()
    with collective("an LSTM epoch (DistributedDataParallel)"):
        total, count = _sharded_steps(model, optimizer, z, ptr, symbols, plan, mine,
                                      order_rng.permutation(len(plan)), W, bptt, generator, clip)
    dynamics.eval()
    total, count = all_reduce(np.array([total, count], dtype=np.float64),
                              what="the LSTM epoch's loss")
    # the summed loss and the (DDP-synchronised) parameters are the same on every rank, so
    # every rank stops here together when training diverged
    check_loss(float(total), "LSTM loss")
    check_parameters(dynamics, "LSTM")
    return float(total) / max(float(count), 1.0)


def _sharded_steps(model, optimizer, z, ptr, symbols, plan, mine, order, W, bptt, generator,
                   clip):
    """The optimizer steps of :func:`train_epoch_sharded` in the given order of buckets;
    returns (Σ loss, target tokens) of this rank."""
    dynamics = model.module
    device = dynamics.device
    K = dynamics.n_topics
    total, count = 0.0, 0
    for j in order:
        L, n_tokens = plan[j]
        if j < len(mine):
            inputs, targets = _padded(z, ptr, mine[j], device, symbols)
        else:  # no minibatch left on this rank: one row of padding
            inputs = torch.full((1, 1), START, dtype=torch.int64, device=device)
            targets = torch.full((1, 1), IGNORE, dtype=torch.int64, device=device)
        pad = L - inputs.shape[1]
        inputs = F.pad(inputs, (0, pad), value=0)
        targets = F.pad(targets, (0, pad), value=IGNORE)
        state = None
        for w in range(len(n_tokens)):
            a = w * int(bptt)
            tgt = targets[:, a:a + bptt]
            log_theta, state = model(inputs[:, a:a + bptt], state, generator=generator)
            loss = F.nll_loss(log_theta.reshape(-1, K), tgt.reshape(-1), ignore_index=IGNORE,
                              reduction="sum")
            optimizer.zero_grad(set_to_none=True)
            # DDP averages the gradients over the W ranks: Σ_r loss_r / n_tokens in all
            (loss * (W / float(n_tokens[w]))).backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(dynamics.parameters(), clip)
            optimizer.step()
            state = (state[0].detach(), state[1].detach())
            total += float(loss.detach())
            count += int((tgt != IGNORE).sum())
    return total, count


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
