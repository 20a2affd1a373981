"""Evaluation protocols: which events of a document are training data and which are targets.

The one home of the train/held-out split (DESIGN §3); the store, ``lla prepare`` and every
evaluator ask this module, never recompute it.

``prefix60``  the paper's protocol, the default: the first ``floor(split_fraction * N_d)``
              tokens of every document are the training *prefix*, every later token is held out
              (``split_fraction`` is 0.6 unless ``--split`` says otherwise).  The test targets
              are all suffix positions; there are no validation targets.
``loo``       leave-one-out, as the recommender field evaluates (RecBole's ``LS:
              valid_and_test`` with ``order: TO``): per user the last event is the *test* target,
              the one before it the *validation* target, everything earlier is training, so the
              training prefix is N_d − 2 events.  Short histories follow RecBole's sequential
              models exactly (they turn every event after the first into a sample
              ``history → event`` and leave the last two *samples* out, keeping at least one
              sample for training):

              ======  ===============  ==================  ===============
              N_d     training prefix  validation target   test target
              ======  ===============  ==================  ===============
              1, 2    all N_d events   none                none
              3       2 events         none                position 2
              >= 4    N_d − 2 events   position N_d − 2    position N_d − 1
              ======  ===============  ==================  ===============

              Every target is ranked given the whole history before it (for the test target
              that includes the validation event).
"""

from collections import namedtuple

import numpy as np

from ..errors import ParameterError

PROTOCOLS = ("prefix60", "loo")
DEFAULT_PROTOCOL = "prefix60"
DEFAULT_SPLIT = 0.6
PARTS = ("validation", "test")

Targets = namedtuple("Targets", "docs positions")
Targets.__doc__ = """Target events of one part: ``docs`` and ``positions`` (int64, shape (n,)),
sorted by document then position; the target is ``corpus[docs[i]][positions[i]]`` and its
history ``corpus[docs[i]][:positions[i]]``."""


def check_protocol(protocol, flag="--protocol"):
    """``protocol`` if it is known, else a one-line :class:`ParameterError`."""
    if protocol not in PROTOCOLS:
        raise ParameterError(f"{flag}: unknown protocol {protocol!r}; choose one of "
                             f"{', '.join(PROTOCOLS)}")
    return protocol


def loo_target_counts(lengths):
    """Number of leave-one-out targets (validation + test) per document: clip(N_d − 2, 0, 2)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.clip(lengths - 2, 0, 2)


def prefix_lengths(lengths, split_fraction=DEFAULT_SPLIT, protocol=DEFAULT_PROTOCOL):
    """Training-prefix length of every document (int64 array, shape (n_docs,)).

    ``prefix60``: floor(split_fraction · N_d); ``loo``: N_d minus its targets (see the module
    docstring).  ``split_fraction`` is ignored by ``loo``.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if check_protocol(protocol) == "loo":
        return lengths - loo_target_counts(lengths)
    return np.floor(lengths * float(split_fraction)).astype(np.int64)


def target_positions(lengths, part="test", split_fraction=DEFAULT_SPLIT,
                     protocol=DEFAULT_PROTOCOL):
    """The targets of ``part`` (``"validation"`` or ``"test"``) as :class:`Targets`.

    ``loo``: at most one per document (see the table above).  ``prefix60``: the test targets
    are every suffix position, in document order; there are no validation targets.
    """
    if part not in PARTS:
        raise ParameterError(f"unknown target part {part!r}; choose one of {', '.join(PARTS)}")
    lengths = np.asarray(lengths, dtype=np.int64)
    if check_protocol(protocol) == "loo":
        n_targets = loo_target_counts(lengths)
        if part == "test":
            docs = np.flatnonzero(n_targets >= 1)
            return Targets(docs.astype(np.int64), lengths[docs] - 1)
        docs = np.flatnonzero(n_targets == 2)
        return Targets(docs.astype(np.int64), lengths[docs] - 2)
    if part == "validation":
        return Targets(np.zeros(0, np.int64), np.zeros(0, np.int64))
    prefix = prefix_lengths(lengths, split_fraction, protocol)
    suffix = lengths - prefix
    docs = np.repeat(np.arange(len(lengths), dtype=np.int64), suffix)
    starts = np.cumsum(suffix) - suffix
    positions = np.arange(int(suffix.sum()), dtype=np.int64) - np.repeat(starts, suffix)
    return Targets(docs, positions + np.repeat(prefix, suffix))


__all__ = ["PROTOCOLS", "DEFAULT_PROTOCOL", "DEFAULT_SPLIT", "PARTS", "Targets",
           "check_protocol", "loo_target_counts", "prefix_lengths", "target_positions"]
