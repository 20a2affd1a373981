"""Continuous batching: pack documents into a fixed number of rows ("slots").

Sequential samplers (SE-step, particle filter) advance every slot by one token per step.  When
a document ends, the next one starts in its slot at the following step with a fresh state, so
every slot stays busy until the queue is empty (DESIGN §2: long documents otherwise leave most
of a batch idle).  Documents are assigned longest-first to the slot that frees up first (LPT),
which makes the number of steps close to max(longest document, total tokens / slots).

The schedule is computed once on the host, so a device loop never has to synchronise.
"""

import heapq
from dataclasses import dataclass

import numpy as np


@dataclass
class Schedule:
    """Which token every slot processes at every step.

    Attributes
    ----------
    token_index : int64 (n_steps, n_slots), index into the concatenated token array of the
        documents (``offsets`` below), -1 where the slot is idle
    start : bool (n_steps, n_slots), True where a document begins (the slot's state is reset)
    doc : int64 (n_steps, n_slots), the document being processed (-1 idle)
    position : int64 (n_steps, n_slots), t-1 inside that document (-1 idle)
    """

    token_index: np.ndarray
    start: np.ndarray
    doc: np.ndarray
    position: np.ndarray

    @property
    def n_steps(self):
        return self.token_index.shape[0]

    @property
    def n_slots(self):
        return self.token_index.shape[1]

    def any_start(self):
        """bool (n_steps,): the steps where some slot begins a document (only there do the
        samplers reset states)."""
        return self.start.any(axis=1)

    def utilisation(self):
        """Fraction of (step, slot) cells that process a token."""
        return float((self.token_index >= 0).mean()) if self.token_index.size else 1.0


def pack(lengths, n_slots):
    """Schedule documents of the given lengths (int (n_docs,)) into ``n_slots`` slots.

    Document d's tokens are ``offsets[d] .. offsets[d] + lengths[d] - 1`` with offsets the
    cumulative sum of ``lengths`` (i.e. the documents concatenated in order).  Empty documents
    take no step.  Deterministic: ties go to the lower document id and the lower slot.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    n_slots = max(1, min(int(n_slots), int(np.count_nonzero(lengths)) or 1))
    order = np.argsort(-lengths, kind="stable")
    free = [(0, s) for s in range(n_slots)]  # (step at which the slot is free, slot)
    placed = []                               # (doc, slot, first step)
    for d in order:
        n = int(lengths[d])
        if n == 0:
            continue
        t0, s = heapq.heappop(free)
        placed.append((int(d), s, t0))
        heapq.heappush(free, (t0 + n, s))
    n_steps = max((t for t, _ in free), default=0)
    token_index = np.full((n_steps, n_slots), -1, dtype=np.int64)
    doc = np.full((n_steps, n_slots), -1, dtype=np.int64)
    position = np.full((n_steps, n_slots), -1, dtype=np.int64)
    start = np.zeros((n_steps, n_slots), dtype=bool)
    for d, s, t0 in placed:
        n = int(lengths[d])
        token_index[t0:t0 + n, s] = np.arange(offsets[d], offsets[d] + n)
        position[t0:t0 + n, s] = np.arange(n)
        doc[t0:t0 + n, s] = d
        start[t0, s] = True
    return Schedule(token_index=token_index, start=start, doc=doc, position=position)


def auto_slots(lengths, cap=2048, floor=32):
    """Slots (documents side by side) for continuous batching: about total / longest (so the
    longest document does not set the pace), within [floor, cap]."""
    lengths = np.asarray(lengths)
    longest = int(lengths.max()) if len(lengths) else 1
    return int(np.clip(int(lengths.sum()) // max(longest, 1), floor, cap))
