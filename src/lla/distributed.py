"""torch.distributed glue (DESIGN §7): one job on several processes and machines, launched by
``torchrun``.

    torchrun --nproc-per-node 2 -m lla train CORPUS --model topic-lla --out DIR ...
    torchrun --nnodes 2 --node-rank R --nproc-per-node 1 --master-addr HOST -m lla train ...

torchrun starts the processes with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT`` in their environment; :func:`init` (called by ``lla train`` / ``lla evaluate``;
library users call it themselves, or use :func:`session`) joins them into one process group:
gloo for CPU tensors, plus NCCL for CUDA tensors when the model runs on a GPU (device ``cuda``
then means ``cuda:LOCAL_RANK``, :func:`resolve_device`).  A process started without torchrun, or
with ``WORLD_SIZE=1``, never joins a group: every helper here is then the identity and the
models take their single-process code path, unchanged (same result bit for bit).

What the models do with it (docs/distributed.md):

* documents are cut into ``WORLD_SIZE`` contiguous blocks with about equal numbers of tokens
  (:func:`shard`, deterministic: it depends only on the document lengths); rank r owns block r;
* every rank samples its own documents (SE-step, LDA sweep); the topic-word counts n_wk are
  summed over ranks (:func:`all_reduce`) and the topics z gathered in document order
  (:func:`all_gather`), so that after every step every rank holds the same model;
* the LSTM is trained with ``DistributedDataParallel`` (:func:`data_parallel`);
* held-out scoring is sharded the same way and the log-probabilities gathered;
* rank 0 alone writes files (:func:`is_writer`).

Failures.  A rank that fails must not leave the others waiting forever in a collective:

* local work between two synchronisation points runs inside :func:`step`: at its end the ranks
  all-reduce an error flag, and if any rank failed, *every* rank raises — the failing one its own
  error, the others :class:`DistributedError` naming the failing rank and its one-line message;
* a collective whose peer has died raises at once under gloo ("connection closed by peer") and
  after the process group's timeout otherwise (``LLA_DIST_TIMEOUT`` seconds, default 1800); the
  helpers turn it into a one-line :class:`DistributedError`;
* torchrun itself stops the other processes (SIGTERM) when one ends with an error; inside
  :func:`session` SIGTERM becomes a :class:`DistributedError`, so each rank ends with one line.

No sockets, pools or RPC of our own: everything goes through torch.distributed.  Messages
between ranks are fixed-size byte tensors (never pickled objects).
"""

import atexit
import contextlib
import datetime
import logging
import math
import os
import re
import signal
import sys
import threading
from dataclasses import dataclass

import numpy as np
import torch

from .errors import LlaError

#: environment variable: seconds a collective may wait for the other ranks
TIMEOUT_ENV = "LLA_DIST_TIMEOUT"
DEFAULT_TIMEOUT = 1800.0
_MESSAGE_BYTES = 1024


class DistributedError(LlaError):
    """Another rank failed, or the process group broke (one line, names the rank or the
    operation)."""


def _dist():
    import torch.distributed as dist
    return dist


# -- who am I -----------------------------------------------------------------------------------
def launched():
    """True if this process was started by torchrun (or a compatible launcher) as one of
    several: ``WORLD_SIZE`` > 1 in the environment."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        raise DistributedError(f"WORLD_SIZE must be an integer, got "
                               f"{os.environ.get('WORLD_SIZE')!r}") from None


def is_distributed():
    """True when this process belongs to an initialised process group of more than one rank —
    the only case in which lla's models take their multi-process code paths."""
    dist = _dist()
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank():
    """This process's rank (0 without a process group)."""
    return _dist().get_rank() if is_distributed() else 0


def world_size():
    """Number of processes (1 without a process group)."""
    return _dist().get_world_size() if is_distributed() else 1


def local_rank():
    """This process's rank on its machine (torchrun's ``LOCAL_RANK``; 0 without a group)."""
    return int(os.environ.get("LOCAL_RANK", "0")) if is_distributed() else 0


def is_writer():
    """True on the one process that writes files and prints results (rank 0)."""
    return rank() == 0


def resolve_device(device):
    """The torch device this process uses for ``device``: under several processes a bare
    ``cuda`` means this process's GPU, ``cuda:LOCAL_RANK``; anything else is kept."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None and is_distributed():
        return torch.device("cuda", local_rank())
    return device


def timeout_seconds():
    """How long a collective waits for the other ranks (``LLA_DIST_TIMEOUT``, seconds)."""
    value = os.environ.get(TIMEOUT_ENV)
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or not math.isfinite(seconds):
        raise DistributedError(f"{TIMEOUT_ENV} must be a positive number of seconds, got "
                               f"{value!r}")
    return seconds


# -- process group ------------------------------------------------------------------------------
def init(device="cpu", *, timeout=None):
    """Join the process group that torchrun describes in the environment, once per process.

    Does nothing (returns False) for a single process.  ``device``: where the model runs; a CUDA
    device adds the NCCL backend for CUDA tensors (``cpu:gloo,cuda:nccl``) and selects
    ``cuda:LOCAL_RANK`` as this process's GPU.  ``timeout``: seconds a collective waits
    (default :func:`timeout_seconds`).  Returns True when there are several processes.
    """
    dist = _dist()
    if dist.is_available() and dist.is_initialized():
        return is_distributed()
    if not launched():
        return False
    if not dist.is_available():
        raise DistributedError("this torch build has no torch.distributed; run one process "
                               "(without torchrun)")
    backend = "gloo"
    if torch.device(device).type == "cuda" and torch.cuda.is_available():
        if dist.is_nccl_available():
            backend = "cpu:gloo,cuda:nccl"
        index = torch.device(device).index
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")) if index is None
                              else index)
    seconds = timeout_seconds() if timeout is None else float(timeout)
    try:
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=seconds))
    except (RuntimeError, ValueError) as e:
        where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
        raise DistributedError(f"rank {os.environ.get('RANK', '?')} of "
                               f"{os.environ.get('WORLD_SIZE')} cannot join the process group "
                               f"at {where}: {_first_line(e)}") from None
    # leave the group at exit unless the caller did (a process that exits with a live gloo group
    # is more likely to abort in C++: see exit_process)
    atexit.register(shutdown)
    return is_distributed()


def shutdown():
    """Leave the process group (if this process joined one)."""
    dist = _dist()
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def exit_process(status=0):
    """End this process now with exit status ``status``: leave the process group, flush stdout,
    stderr and the logging handlers, then ``os._exit``.

    This skips the interpreter's finalization on purpose.  A gloo worker thread releases a
    finished collective (its ``AsyncWork`` and the tensors in it) a moment after the caller got
    the result; when that moment falls into finalization, the release needs the GIL, the thread
    is cancelled and the process aborts ("terminate called without an active exception", exit
    signal 6) after its work was done — seen in ~2 % of two-process runs on a loaded machine
    (gdb: ``AsyncAllgatherWork::~AsyncAllgatherWork`` → ``decref_pyobject`` → ``take_gil`` in
    ``ProcessGroupGloo::runLoop``; a known PyTorch problem, pytorch/pytorch#179291).  For the
    main program of a torchrun process (``lla``'s CLI does this), never for a library call."""
    shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(int(status))


def _on_sigterm(signum, frame):
    raise DistributedError("stopped by SIGTERM (torchrun stops every process when one of them "
                           "fails: see that process's message)")


@contextlib.contextmanager
def session(device="cpu"):
    """``with session(device):`` — :func:`init` on entry, :func:`shutdown` on exit (of a group it
    joined; one that existed before is left alone); while several processes run, SIGTERM
    (torchrun stopping the job because another rank failed) raises :class:`DistributedError` in
    the main thread, so the process ends with one line."""
    dist = _dist()
    existed = dist.is_available() and dist.is_initialized()
    joined = init(device)
    previous = None
    if joined and threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield joined
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if not existed:
            shutdown()


# -- errors -------------------------------------------------------------------------------------
def _first_line(error):
    """The first line of an exception's text without gloo's ``[file.cc:123]`` prefix."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = re.sub(r"^\[[^\]]*\]\s*", "", text)
    return re.sub(r"(?<=\.) This is typically caused by .*$", "", text)  # gloo's advice


@contextlib.contextmanager
def collective(what):
    """Turn a failed torch.distributed operation (a dead peer, a timeout) inside the block into a
    one-line :class:`DistributedError` naming ``what``."""
    try:
        yield
    except DistributedError:
        raise
    except RuntimeError as e:
        raise DistributedError(f"torch.distributed failed during {what} (another rank has "
                               f"probably ended: see its message): {_first_line(e)}") from e


def _describe(error):
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if isinstance(error, LlaError):
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"{type(error).__name__}: {_first_line(error)}"


@contextlib.contextmanager
def step(what):
    """Local work that every rank does between two synchronisation points (``what`` names it in
    messages).  At the end the ranks agree on whether all of them succeeded: if one raised, it
    re-raises its own error and every other rank raises :class:`DistributedError` ("rank r
    failed during what: message").  A no-op for a single process."""
    if not is_distributed():
        yield
        return
    try:
        yield
    except BaseException as e:
        try:
            _agree_on_failure(what, _describe(e))
        except DistributedError:
            pass  # the others are gone as well; report our own error
        raise
    failed = _agree_on_failure(what, None)
    if failed is not None:
        raise DistributedError(failed)


def _agree_on_failure(what, message):
    """All-reduce of an error flag; returns the message of the lowest failing rank (None if no
    rank failed)."""
    dist = _dist()
    me, W = dist.get_rank(), dist.get_world_size()
    with collective(what):
        flag = torch.tensor([me if message is not None else W], dtype=torch.int64)
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        src = int(flag[0])
        if src == W:
            return None
        buf = torch.zeros(_MESSAGE_BYTES, dtype=torch.uint8)
        if me == src:
            data = message.encode("utf-8")[:_MESSAGE_BYTES - 1]
            buf[:len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        dist.broadcast(buf, src=src)
    text = bytes(buf.numpy()).rstrip(b"\0").decode("utf-8", errors="replace")
    return f"rank {src} of {W} failed during {what}: {text}"


# -- sharding -----------------------------------------------------------------------------------
def balanced_blocks(lengths, n_blocks):
    """Boundaries (n_blocks + 1,) int64 of ``n_blocks`` contiguous blocks of documents with about
    equal numbers of tokens (block b = documents ptr[b]:ptr[b+1]; a block may be empty when there
    are fewer documents than blocks).  Deterministic: depends only on ``lengths`` (D,)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    D = len(lengths)
    offsets = np.zeros(D + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    targets = np.linspace(0, offsets[-1], int(n_blocks) + 1)
    ptr = np.searchsorted(offsets, targets).astype(np.int64)
    ptr[0], ptr[-1] = 0, D
    return np.minimum(np.maximum.accumulate(ptr), D)


@dataclass(frozen=True)
class Shard:
    """The documents of every rank: rank r owns documents ``doc_ptr[r]:doc_ptr[r+1]``, whose
    tokens (documents concatenated) are ``token_ptr[r]:token_ptr[r+1]``; ``rank`` is this
    process."""

    rank: int
    doc_ptr: np.ndarray    # int64 (W+1,)
    token_ptr: np.ndarray  # int64 (W+1,)

    @property
    def world_size(self):
        return len(self.doc_ptr) - 1

    @property
    def docs(self):
        """slice of this rank's documents."""
        return slice(int(self.doc_ptr[self.rank]), int(self.doc_ptr[self.rank + 1]))

    @property
    def tokens(self):
        """slice of this rank's tokens in the concatenated token array."""
        return slice(int(self.token_ptr[self.rank]), int(self.token_ptr[self.rank + 1]))

    def per_rank(self, per_document):
        """[per_document[doc_ptr[r]:doc_ptr[r+1]] for every rank r] (e.g. every rank's
        document lengths)."""
        return [np.asarray(per_document[self.doc_ptr[r]:self.doc_ptr[r + 1]])
                for r in range(self.world_size)]


def shard(lengths, *, world=None, rank_=None):
    """This process's :class:`Shard` of documents with the given lengths (int (D,)), balanced by
    tokens over ``world`` ranks (default: the process group)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    W = world_size() if world is None else int(world)
    r = rank() if rank_ is None else int(rank_)
    doc_ptr = balanced_blocks(lengths, W)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Shard(rank=r, doc_ptr=doc_ptr, token_ptr=offsets[doc_ptr])


def rank_seed(seed_sequence, *key):
    """A SeedSequence for this rank derived from ``seed_sequence`` (its entropy and spawn key,
    then ``key``, then the rank): every rank draws its own stream, reproducibly."""
    return np.random.SeedSequence(seed_sequence.entropy,
                                  spawn_key=tuple(seed_sequence.spawn_key) +
                                  tuple(int(k) for k in key) + (rank(),))


# -- collectives on numpy arrays ----------------------------------------------------------------
def _owned(array):
    """A tensor with its own memory holding a copy of ``array`` (a collective works in place:
    the caller's array is never changed)."""
    return torch.tensor(np.ascontiguousarray(array))


def all_reduce(array, op="sum", *, what="an all-reduce"):
    """Element-wise sum (``op="sum"``), ``"max"`` or ``"min"`` of ``array`` over all ranks: a new
    numpy array of the same shape and dtype on every rank (int32, int64, float32, float64).
    Without a process group: ``array`` itself."""
    if not is_distributed():
        return array
    dist = _dist()
    ops = {"sum": dist.ReduceOp.SUM, "max": dist.ReduceOp.MAX, "min": dist.ReduceOp.MIN}
    arr = np.asarray(array)
    t = _owned(arr)
    with collective(what):
        dist.all_reduce(t, op=ops[op])
    return t.numpy().reshape(arr.shape)


def all_reduce_scalar(value, op="sum", *, what="an all-reduce"):
    """:func:`all_reduce` of one float (float64)."""
    return float(all_reduce(np.array([value], dtype=np.float64), op, what=what)[0])


def all_gather(array, *, what="an all-gather"):
    """The ranks' arrays concatenated along axis 0 in rank order, on every rank (their first
    dimension may differ, the others must agree).  Without a process group: ``array``."""
    if not is_distributed():
        return array
    dist = _dist()
    arr = np.ascontiguousarray(array)
    W = dist.get_world_size()
    with collective(what):
        sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(W)]
        dist.all_gather(sizes, torch.tensor([arr.shape[0]], dtype=torch.int64))
        sizes = [int(s[0]) for s in sizes]
        padded = np.zeros((max(sizes),) + arr.shape[1:], dtype=arr.dtype)
        padded[:arr.shape[0]] = arr
        padded = _owned(padded)
        parts = [torch.empty_like(padded) for _ in range(W)]
        dist.all_gather(parts, padded)
    return np.concatenate([p.numpy()[:n] for p, n in zip(parts, sizes)], axis=0)


def broadcast(array, src=0, *, what="a broadcast"):
    """Rank ``src``'s array (shape and dtype must agree on every rank) on every rank."""
    if not is_distributed():
        return array
    dist = _dist()
    t = _owned(array)
    with collective(what):
        dist.broadcast(t, src=src)
    return t.numpy()


def check_agreement(value, what):
    """Raise :class:`DistributedError` on every rank unless every rank passes the same integer
    ``value`` (e.g. whether it found a checkpoint, its iteration)."""
    if not is_distributed():
        return
    v = np.array([int(value), -int(value)], dtype=np.int64)
    low, neg_high = all_reduce(v, "min", what=f"checking {what}")
    if low != -neg_high:
        raise DistributedError(f"the ranks disagree about {what} (values {low}..{-neg_high}; "
                               f"rank {rank()} has {int(value)})")


def check_same_data(fingerprint, what="the training corpus"):
    """Raise :class:`DistributedError` on every rank unless every rank opened the same data
    (``fingerprint``: a hex digest such as :meth:`lla.Corpus.fingerprint`)."""
    if is_distributed():
        check_agreement(int(str(fingerprint)[:15], 16),
                        f"{what} (its fingerprint; every machine must hold the same corpus)")


def any_rank(flag, *, what="an agreement"):
    """True on every rank if ``flag`` is true on any rank."""
    if not is_distributed():
        return bool(flag)
    return bool(all_reduce(np.array([1 if flag else 0], dtype=np.int64), "max", what=what)[0])


def barrier(what="a barrier"):
    """Wait for every rank (a no-op for one process)."""
    if is_distributed():
        with collective(what):
            _dist().barrier()


# -- data-parallel LSTM -------------------------------------------------------------------------
def data_parallel(module):
    """``module`` wrapped in ``DistributedDataParallel`` (gradients averaged over ranks at every
    backward; parameters broadcast from rank 0 once, here).  Create it once per training run:
    every wrapper registers its own gradient hooks."""
    from torch.nn.parallel import DistributedDataParallel

    device = next(module.parameters()).device
    with collective("setting up DistributedDataParallel"):
        if device.type == "cuda":
            return DistributedDataParallel(module, device_ids=[device.index],
                                           output_device=device.index)
        return DistributedDataParallel(module)
