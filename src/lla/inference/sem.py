"""Stochastic EM for the LLA family (DESIGN §2): counts, φ, one SEM iteration, and the loop.

    SE-step   z ~ Π_t π_t,  π_{t,k} ∝ θ_{t,k} φ_{w_t,k}     (φ fixed, :func:`se_step`)
    M-step    n_wk = #{w_t = w, z_t = k};  φ_{k,w} = (n_wk + β) / (n_k + Vβ)
              LSTM: Adam on Σ_t log θ_{t, z_t}, teacher forcing on the sampled z

After the last iteration the model may average φ over further SE-steps with the LSTM fixed
(:func:`se_chain`, ``n_average``).

Online SEM (``online_blocks`` B > 1, :func:`document_blocks`): every pass over the corpus
splits the documents into B random blocks, and iteration i runs the SE-step and the M-step on
one block only — the SE-step against φ of *all* current counts, so it stays the exact
conditional for the documents it visits; the other documents keep their z, and n_wk is updated
by the block's difference (:func:`block_iteration`).  B iterations cost about one full
iteration and update φ and the LSTM B times.

The loop (:func:`run_sem`) knows nothing about files: after every finished iteration it calls
``after_iteration`` (which the model uses for validation, early stopping and checkpoints); on
Ctrl-C it puts the LSTM and the optimizer back to the end of the last finished iteration and
returns, so the caller keeps a consistent model.

Several processes (``torchrun``, :mod:`lla.distributed`; DESIGN §7): given a
:class:`~lla.distributed.Shard`, every rank runs the SE-step on its own documents, the counts
n_wk are summed over the ranks and the topics z gathered (bulk-synchronous, as AD-LDA), and the
LSTM is trained by ``DistributedDataParallel`` on each rank's documents
(:func:`sharded_sem_iteration`); afterwards every rank holds the same z, n_wk and LSTM.
"""

import copy
import time
from dataclasses import dataclass

import numpy as np

from ..distributed import all_gather, all_reduce, all_reduce_scalar, step
from ..distributed import shard as distributed_shard
from ..nn.training import train_epoch, train_epoch_sharded
from .counts import FixedPhi, topic_counts
from .schedule import auto_slots
from .se_step import se_step


@dataclass
class StepConfig:
    """Knobs of one SEM iteration (see :class:`lla.TopicLLA` for their meaning)."""

    epochs: int = 2
    batch_size: int = 32
    bptt: int = 64
    n_slots: int = 0  # documents side by side in the SE-step; 0 = automatic
    clip: float = 1.0


def fit_lstm(dynamics, optimizer, z, lengths, epochs, config, rng, generator, bar=None,
             symbols=None):
    """``epochs`` teacher-forced epochs on z (targets) with LSTM inputs ``symbols`` (None: z
    itself, topic-LLA; the words for word-/char-LLA).  ``bar``: optional tqdm-like progress,
    updated with tokens.  Returns the last epoch's mean loss (nats/token)."""
    loss = float("nan")
    for _ in range(int(epochs)):
        loss = train_epoch(dynamics, optimizer, z, lengths, batch_size=config.batch_size,
                           bptt=config.bptt, rng=rng, generator=generator, clip=config.clip,
                           symbols=symbols, progress=bar)
        if bar is not None:
            bar.set_postfix(loss=f"{loss:.3f}")
    return loss


def fit_lstm_sharded(model, optimizer, z, lengths, shard, epochs, config, order_rng, rng,
                     generator, symbols=None):
    """``epochs`` data-parallel epochs (:func:`lla.nn.training.train_epoch_sharded`) of the
    DDP-wrapped ``model`` on this rank's documents: ``z`` and ``symbols`` are this rank's
    tokens, ``lengths`` (D,) the lengths of *all* documents, ``shard`` who owns which.
    ``order_rng`` is in the same state on every rank, ``rng`` and ``generator`` are this rank's.
    Returns the last epoch's mean loss over all ranks."""
    shard_lengths = shard.per_rank(np.asarray(lengths, dtype=np.int64))
    loss = float("nan")
    for _ in range(int(epochs)):
        loss = train_epoch_sharded(model, optimizer, z, shard_lengths[shard.rank], shard_lengths,
                                   batch_size=config.batch_size, bptt=config.bptt,
                                   order_rng=order_rng, rng=rng, generator=generator,
                                   clip=config.clip, symbols=symbols)
    return loss


def sequential_se_step(dynamics, phi, words, lengths, generator, config):
    """Topic-LLA's SE-step: θ_t from the LSTM run on the sampled z_<t (sequential in t, batched
    across documents, :func:`lla.inference.se_step.se_step`).  ``phi`` is the step's
    :class:`~lla.inference.counts.FixedPhi`.  Returns int32 (N,)."""
    return se_step(dynamics.stepper(), phi.log_phi_wk, words, lengths, generator=generator,
                   n_slots=config.n_slots or auto_slots(lengths))


def se_counts(dynamics, words, lengths, n_wk, beta, config, generator, *,
              se_step_fn=sequential_se_step, shard=None):
    """One SE-step against φ of the counts ``n_wk`` and the counts of what it sampled.

    words : int (N,), lengths : int (D,): *all* training tokens and document lengths
    n_wk : int32 (V, K), the counts φ is computed from (held fixed during the step)
    generator : torch.Generator of the step (this rank's, in a process group)
    se_step_fn : as in :func:`sem_iteration`
    shard : None (one process), or this rank's :class:`~lla.distributed.Shard`: the rank samples
        its own documents, the counts are summed over the ranks (all-reduce of the V×K n_wk)
        and the topics gathered in document order.

    Returns (z int32 (N,), n_wk int32 (V, K), z of this rank's tokens (all of z in one
    process), timings {"se_seconds": the slowest rank's SE-step, "sync_seconds": this rank's
    time in the all-reduce and the gather (0 in one process)}).
    """
    V, K = n_wk.shape
    dynamics = getattr(dynamics, "module", dynamics)  # DDP-wrapped in a process group
    if shard is None:
        start = time.perf_counter()
        z = se_step_fn(dynamics, FixedPhi(n_wk, beta, dynamics.device), words, lengths,
                       generator, config)
        se_seconds = time.perf_counter() - start
        return z, topic_counts(words, z, V, K), z, {"se_seconds": se_seconds,
                                                    "sync_seconds": 0.0}
    mine_words = np.asarray(words[shard.tokens])
    mine_lengths = np.asarray(lengths[shard.docs])
    with step("the SE-step"):
        start = time.perf_counter()
        if len(mine_words):
            z_mine = se_step_fn(dynamics, FixedPhi(n_wk, beta, dynamics.device), mine_words,
                                mine_lengths, generator, config)
        else:  # more ranks than documents
            z_mine = np.zeros(0, dtype=np.int32)
        counts = topic_counts(mine_words, z_mine, V, K)
        se_seconds = time.perf_counter() - start
    start = time.perf_counter()
    n_wk = all_reduce(counts, what="the all-reduce of the topic-word counts")
    z = all_gather(np.asarray(z_mine, dtype=np.int32), what="gathering the topics z")
    sync_seconds = time.perf_counter() - start
    se_seconds = all_reduce_scalar(se_seconds, "max", what="the SE-step's timing")
    return z, n_wk, z_mine, {"se_seconds": se_seconds, "sync_seconds": sync_seconds}


def sem_iteration(dynamics, optimizer, words, lengths, n_wk, beta, config, streams, *,
                  se_step_fn=sequential_se_step, symbols=None):
    """One SE-step + M-step.

    Parameters
    ----------
    dynamics : lla.nn.dynamics.Dynamics (updated in place by the M-step)
    optimizer : its optimizer
    words : int (N,), lengths : int (D,): the training tokens, documents concatenated
    n_wk : int32 (V, K), the counts φ is computed from for this SE-step
    beta : β
    config : StepConfig
    streams : (se_generator, dropout_generator, shuffle_rng) for this iteration
    se_step_fn : se_step_fn(dynamics, phi, words, lengths, generator, config) -> z int32 (N,),
        ``phi`` the :class:`~lla.inference.counts.FixedPhi` of n_wk and β (its log φ or its MH
        alias tables are made when the sampler asks for them); default
        :func:`sequential_se_step` (topic-LLA); word-/char-LLA pass their fused sampler
    symbols : the LSTM's input sequence for the M-step (None: z, topic-LLA; the words for
        word-/char-LLA)

    Returns (z int32 (N,), n_wk int32 (V, K), stats dict).
    """
    se_gen, drop_gen, shuffle_rng = streams
    z, n_wk, _, timings = se_counts(dynamics, words, lengths, n_wk, beta, config, se_gen,
                                    se_step_fn=se_step_fn)
    start = time.perf_counter()
    loss = fit_lstm(dynamics, optimizer, z, lengths, config.epochs, config, shuffle_rng, drop_gen,
                    symbols=symbols)
    return z, n_wk, {
        "se_seconds": timings["se_seconds"],
        "se_tokens_per_second": len(words) / max(timings["se_seconds"], 1e-9),
        "lstm_seconds": time.perf_counter() - start,
        "lstm_loss": loss,
        "phi_density": float(np.count_nonzero(n_wk)) / n_wk.size,
        "changed": None,
    }


def sharded_sem_iteration(model, optimizer, words, lengths, n_wk, beta, config, streams, shard, *,
                          se_step_fn=sequential_se_step, symbols=None):
    """One SE-step + M-step of this rank in a process group (:mod:`lla.distributed`).

    The SE-step samples this rank's documents (``shard``) against φ of the common counts; the
    counts of its tokens are summed over the ranks (all-reduce of the V×K n_wk) and the topics
    gathered in document order (:func:`se_counts`); the LSTM is trained by
    ``DistributedDataParallel`` on this rank's documents (:func:`fit_lstm_sharded`).

    model : the DDP-wrapped dynamics (``model.module`` is the Dynamics)
    words, lengths, symbols : *all* training tokens and document lengths (every rank has them;
        it uses its shard's)
    streams : (se_generator, dropout_generator, order_rng, rank_rng): the first two and the
        last this rank's own, ``order_rng`` the same on every rank
    Other arguments as :func:`sem_iteration`.

    Returns (z int32 (N,), n_wk int32 (V, K), stats), the same on every rank; ``se_seconds``
    is the slowest rank's SE-step, ``sync_seconds`` this rank's time in the count all-reduce
    and the gather of z.
    """
    se_gen, drop_gen, order_rng, rank_rng = streams
    mine_symbols = None if symbols is None else np.asarray(symbols[shard.tokens])
    z, n_wk, z_mine, timings = se_counts(model, words, lengths, n_wk, beta, config, se_gen,
                                         se_step_fn=se_step_fn, shard=shard)
    start = time.perf_counter()
    loss = fit_lstm_sharded(model, optimizer, z_mine, lengths, shard, config.epochs, config,
                            order_rng, rank_rng, drop_gen, symbols=mine_symbols)
    return z, n_wk, {
        "se_seconds": timings["se_seconds"],
        "se_tokens_per_second": len(words) / max(timings["se_seconds"], 1e-9),
        "sync_seconds": timings["sync_seconds"],
        "lstm_seconds": time.perf_counter() - start,
        "lstm_loss": loss,
        "phi_density": float(np.count_nonzero(n_wk)) / n_wk.size,
        "changed": None,
    }


def document_blocks(n_documents, n_blocks, rng):
    """The B = ``n_blocks`` blocks of one online-SEM pass: a random permutation of the
    documents 0..D-1 (``rng``: a np.random.Generator of the pass) cut into B parts of
    ⌊D/B⌋ or ⌈D/B⌉ documents, each sorted.  Returns a list of B int64 arrays that partition
    range(D)."""
    order = rng.permutation(int(n_documents))
    return [np.sort(part).astype(np.int64) for part in np.array_split(order, int(n_blocks))]


def block_token_index(lengths, docs):
    """int64 (n,): the positions, in the concatenated token array of documents with ``lengths``
    (D,), of the tokens of documents ``docs`` (int (b,), in that order)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    docs = np.asarray(docs, dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    block_lengths = lengths[docs]
    n = int(block_lengths.sum())
    # position j of the block = start of its document + (j - where that document begins in it)
    shift = starts[docs] - (np.cumsum(block_lengths) - block_lengths)
    return np.repeat(shift, block_lengths) + np.arange(n, dtype=np.int64)


def block_iteration(iterate, words, lengths, z, n_wk, docs, symbols=None):
    """One online-SEM iteration on the documents ``docs`` (sorted int (b,)).

    iterate(block_words, block_lengths, block_symbols) -> (z_b, n_b, stats): an SEM iteration
    (:func:`sem_iteration` or :func:`sharded_sem_iteration` with φ of the full counts
    ``n_wk``) on the block's documents alone, returning their new topics z_b (n,) and counts
    n_b (V, K).  The other documents keep their topics; the counts become
    n_wk − counts(block's old z) + n_b, which equals the counts of the new z over all tokens.

    Returns (z int32 (N,), n_wk int32 (V, K), stats) with ``changed`` the fraction of the
    block's tokens whose topic changed and ``block_documents``, ``block_tokens`` its size.
    """
    V, K = n_wk.shape
    tokens = block_token_index(lengths, docs)
    block_words = np.asarray(words)[tokens]
    z_block, n_block, stats = iterate(
        block_words, np.asarray(lengths)[docs],
        None if symbols is None else np.asarray(symbols)[tokens])
    z_old = z[tokens]
    z_new = z.copy()
    z_new[tokens] = z_block
    n_wk_new = n_wk - topic_counts(block_words, z_old, V, K) + n_block
    stats = dict(stats, changed=float(np.mean(z_block != z_old)) if len(tokens) else 0.0,
                 block_documents=int(len(docs)), block_tokens=int(len(tokens)),
                 phi_density=float(np.count_nonzero(n_wk_new)) / n_wk_new.size)
    return z_new, n_wk_new, stats


def se_chain(dynamics, words, lengths, n_wk, beta, config, generators, *,
             se_step_fn=sequential_se_step, shard=None):
    """SE-steps with the LSTM held fixed, each against φ of the previous step's counts (a
    Gibbs chain over z given the fitted dynamics, started from ``n_wk``): yields the counts
    n_wk int32 (V, K) of every step, one per generator of ``generators``.  The model averages
    them into its φ (``n_average``), as LDA averages its last sweeps; arguments as
    :func:`se_counts`."""
    for generator in generators:
        _, n_wk, _, _ = se_counts(dynamics, words, lengths, n_wk, beta, config, generator,
                                  se_step_fn=se_step_fn, shard=shard)
        yield n_wk


def run_sem(dynamics, optimizer, words, lengths, z, n_wk, beta, *, first, last, config,
            streams_for, after_iteration, se_step_fn=sequential_se_step, symbols=None,
            shard=None, model=None, block_for=None):
    """Iterations ``first``..``last`` (inclusive) of SEM (``se_step_fn``, ``symbols``: see
    :func:`sem_iteration`).

    streams_for(iteration) -> (se_generator, dropout_generator, shuffle_rng): per-iteration random
    streams derived from the model's seed, so a resumed run draws exactly what an uninterrupted
    one would have.
    after_iteration(iteration, z, n_wk, stats) -> bool: called after each finished iteration
    (checkpoint, validation); ``False`` stops (early stopping).
    block_for(iteration) -> sorted int64 document indices, or None: online SEM — the iteration
    visits only those documents (:func:`block_iteration`); None (or no ``block_for``) = all.

    shard, model : in a process group (:mod:`lla.distributed`), this rank's
        :class:`~lla.distributed.Shard` and the DDP-wrapped ``dynamics``: the iterations are
        :func:`sharded_sem_iteration` (``streams_for`` then returns its four streams; a block
        of online SEM is shared among the ranks by its own :func:`lla.distributed.shard`), and
        Ctrl-C is not caught (the ranks cannot agree on a last iteration; the checkpoint of
        the last finished one stays).

    Returns (z, n_wk, last_finished_iteration, interrupted).
    """
    def iteration(it, z, n_wk):
        streams = streams_for(it)
        docs = None if block_for is None else block_for(it)

        def iterate(w, lens, sym):   # one SEM iteration on these documents (all, or a block)
            if shard is None:
                return sem_iteration(dynamics, optimizer, w, lens, n_wk, beta, config, streams,
                                     se_step_fn=se_step_fn, symbols=sym)
            return sharded_sem_iteration(model, optimizer, w, lens, n_wk, beta, config, streams,
                                         shard if docs is None else distributed_shard(lens),
                                         se_step_fn=se_step_fn, symbols=sym)
        if docs is not None:
            return block_iteration(iterate, words, lengths, z, n_wk, docs, symbols)
        z_new, n_wk_new, stats = iterate(words, lengths, symbols)
        stats["changed"] = float(np.mean(z_new != z))
        return z_new, n_wk_new, stats

    done = first - 1
    if shard is not None:
        for it in range(first, last + 1):
            z, n_wk, stats = iteration(it, z, n_wk)
            done = it
            if after_iteration(it, z, n_wk, stats) is False:
                break
        return z, n_wk, done, False
    snapshot = (copy.deepcopy(dynamics.state_dict()), copy.deepcopy(optimizer.state_dict()))
    try:
        for it in range(first, last + 1):
            z_new, n_wk_new, stats = iteration(it, z, n_wk)
            z, n_wk, done = z_new, n_wk_new, it
            snapshot = (copy.deepcopy(dynamics.state_dict()),
                        copy.deepcopy(optimizer.state_dict()))
            if after_iteration(it, z, n_wk, stats) is False:
                break
    except KeyboardInterrupt:
        dynamics.load_state_dict(snapshot[0])
        optimizer.load_state_dict(snapshot[1])
        dynamics.eval()
        return z, n_wk, done, True
    return z, n_wk, done, False
