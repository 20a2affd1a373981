"""A tiny explicit random generator shared by the numba kernels and their Python twins.

SplitMix64 (Steele, Lea & Flood 2014; the seeding generator of xoshiro): the whole state is one
``uint64`` that the caller owns and passes around, so a kernel and its pure-Python twin that
consume draws in the same order produce bit-identical samples.  It passes BigCrush, costs a
handful of integer operations per draw, and needs no global state (``np.random.seed`` in Python
does not seed numba; we never touch either global generator).

Kernels keep the state in a local variable (no false sharing between threads) and write it back
to their ``uint64`` state array at the end.  Seeds come from :func:`seeds_from`, i.e. from a
``numpy.random.SeedSequence`` spawned off the model's one ``random_state``.

numba functions:  ``state = advance(state)``, ``u = uniform(state)`` -> float64 in [0, 1).
Python twin:      :class:`SplitMix64`.
"""

import numpy as np
from numba import njit

GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_MASK = (1 << 64) - 1
INV_2_53 = 1.0 / 9007199254740992.0  # 2**-53

_U_GOLDEN = np.uint64(GOLDEN)
_U_M1 = np.uint64(_M1)
_U_M2 = np.uint64(_M2)
_U30 = np.uint64(30)
_U27 = np.uint64(27)
_U31 = np.uint64(31)
_U11 = np.uint64(11)


@njit(cache=True, inline="always")
def advance(state):
    """Next state (uint64): state + golden ratio constant, wrapping."""
    return state + _U_GOLDEN


@njit(cache=True, inline="always")
def mix(x):
    """SplitMix64 output function: uint64 -> uint64."""
    x = (x ^ (x >> _U30)) * _U_M1
    x = (x ^ (x >> _U27)) * _U_M2
    return x ^ (x >> _U31)


@njit(cache=True, inline="always")
def uniform(state):
    """A float64 in [0, 1) from an already advanced ``state`` (53 random bits)."""
    return np.float64(mix(state) >> _U11) * INV_2_53


class SplitMix64:
    """Pure-Python twin: ``SplitMix64(seed).uniform()`` yields the same sequence as the numba
    pattern ``state = advance(state); u = uniform(state)``."""

    def __init__(self, seed):
        self.state = int(seed) & _MASK

    @staticmethod
    def mix(x):
        x = ((x ^ (x >> 30)) * _M1) & _MASK
        x = ((x ^ (x >> 27)) * _M2) & _MASK
        return x ^ (x >> 31)

    def uniform(self):
        self.state = (self.state + GOLDEN) & _MASK
        return (self.mix(self.state) >> 11) * INV_2_53


def seeds_from(seed_sequence, n):
    """``n`` independent uint64 seeds drawn from a :class:`numpy.random.SeedSequence`."""
    return seed_sequence.generate_state(max(int(n), 1), dtype=np.uint64)[:n].copy()
