import numpy as np

from lla.inference.schedule import pack


def test_every_token_once_in_order_with_fresh_starts():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 40, size=57)
    lengths[3] = 150  # one long document
    sched = pack(lengths, 8)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    seen = sched.token_index[sched.token_index >= 0]
    assert np.array_equal(np.sort(seen), np.arange(lengths.sum()))
    for s in range(sched.n_slots):
        col = sched.token_index[:, s]
        for d in np.unique(sched.doc[:, s][sched.doc[:, s] >= 0]):
            rows = np.flatnonzero(sched.doc[:, s] == d)
            assert np.array_equal(rows, np.arange(rows[0], rows[0] + lengths[d]))  # contiguous
            assert np.array_equal(col[rows], np.arange(offsets[d], offsets[d + 1]))
            assert sched.start[rows[0], s] and not sched.start[rows[1:], s].any()
            assert np.array_equal(sched.position[rows, s], np.arange(lengths[d]))


def test_slots_stay_busy():
    lengths = np.array([100] + [10] * 70)
    sched = pack(lengths, 8)
    # continuous batching: the long document alone sets the number of steps
    assert sched.n_steps == 100
    assert sched.utilisation() > 0.99
    # without refilling, 8 slots of one batch would need 100 + 9 * 10 steps
    assert pack(np.array([5, 5]), 16).n_slots == 2


def test_empty_documents_take_no_steps():
    sched = pack(np.array([0, 0, 3]), 4)
    assert sched.n_steps == 3 and sched.n_slots == 1
    assert np.array_equal(sched.token_index[:, 0], [0, 1, 2])
