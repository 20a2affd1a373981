import numpy as np
import pytest

from lla._kernels.windows import window_cooccurrence
from lla._kernels.windows_ref import window_cooccurrence_ref


def _random_store(rng, n_docs, V, max_len):
    lengths = rng.integers(0, max_len, size=n_docs)
    tokens = rng.integers(0, V, size=int(lengths.sum())).astype(np.int32)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return tokens, starts, lengths.astype(np.int64)


@pytest.mark.parametrize("window", [1, 2, 3, 10, 50])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_matches_twin(window, seed):
    rng = np.random.default_rng(seed)
    V, U = 25, 9                                      # small V: many repeats inside a window
    tokens, starts, lengths = _random_store(rng, 30, V, 40)
    slot = np.full(V, -1, dtype=np.int32)
    slot[rng.choice(V, U, replace=False)] = np.arange(U, dtype=np.int32)
    for used in (lengths, lengths * 3 // 5):          # whole documents and prefixes
        fast = window_cooccurrence(tokens, starts, used, slot, window, U)
        slow = window_cooccurrence_ref(tokens, starts, used, slot, window, U)
        assert fast[0] == slow[0]
        np.testing.assert_array_equal(fast[1], slow[1])
        np.testing.assert_array_equal(fast[2], slow[2])
        assert np.all(np.tril(fast[2]) == 0)


def test_counts_by_hand():
    # one document "a b a c x", W = 3: windows [a b a], [b a c], [a c x]
    a, b, c, x = 0, 1, 2, 3
    tokens = np.array([a, b, a, c, x], dtype=np.int32)
    slot = np.array([0, 1, 2, -1], dtype=np.int32)
    n, occ, co = window_cooccurrence(tokens, np.array([0]), np.array([5]), slot, 3, 3)
    assert n == 3
    assert occ.tolist() == [3, 2, 2]          # a is in every window (gensim 4.4 counts 1)
    assert co[0, 1] == 2 and co[0, 2] == 2 and co[1, 2] == 1


def test_short_and_empty_documents():
    tokens = np.array([0, 1, 1, 2], dtype=np.int32)
    slot = np.array([0, 1, 2], dtype=np.int32)
    # documents: [0, 1] (shorter than W: one window), [] (no window), [1, 2] (one window)
    n, occ, co = window_cooccurrence(tokens, np.array([0, 2, 2]), np.array([2, 0, 2]), slot,
                                     10, 3)
    assert n == 2 and occ.tolist() == [1, 2, 1] and co[0, 1] == 1 and co[1, 2] == 1
    assert co[0, 2] == 0
