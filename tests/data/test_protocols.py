import numpy as np
import pytest

from lla import ParameterError
from lla.data.protocols import loo_target_counts, prefix_lengths, target_positions


def test_prefix60_is_floor_of_fraction_and_the_default():
    assert prefix_lengths([10, 3, 1, 5, 7], 0.6).tolist() == [6, 1, 0, 3, 4]
    assert prefix_lengths([10, 3, 1, 5, 7]).tolist() == [6, 1, 0, 3, 4]
    assert prefix_lengths([10], 0.5, "prefix60").tolist() == [5]


def test_loo_follows_recbole_sequential_rule_for_short_histories():
    # N: 1, 2 -> training only; 3 -> test target only; >= 4 -> validation + test
    lengths = [1, 2, 3, 4, 5, 20]
    assert loo_target_counts(lengths).tolist() == [0, 0, 1, 2, 2, 2]
    assert prefix_lengths(lengths, protocol="loo").tolist() == [1, 2, 2, 2, 3, 18]
    # split_fraction is ignored by loo
    assert prefix_lengths(lengths, 0.1, "loo").tolist() == [1, 2, 2, 2, 3, 18]
    docs, positions = target_positions(lengths, "test", protocol="loo")
    assert docs.tolist() == [2, 3, 4, 5] and positions.tolist() == [2, 3, 4, 19]
    docs, positions = target_positions(lengths, "validation", protocol="loo")
    assert docs.tolist() == [3, 4, 5] and positions.tolist() == [2, 3, 18]
    assert docs.dtype == np.int64 and positions.dtype == np.int64


def test_loo_targets_are_the_suffix():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 30, 200)
    prefix = prefix_lengths(lengths, protocol="loo")
    test = target_positions(lengths, "test", protocol="loo")
    val = target_positions(lengths, "validation", protocol="loo")
    held_out = np.zeros(len(lengths), int)
    np.add.at(held_out, test.docs, 1)
    np.add.at(held_out, val.docs, 1)
    assert np.array_equal(held_out, lengths - prefix)
    assert (test.positions == lengths[test.docs] - 1).all()
    assert (val.positions == prefix[val.docs]).all()  # validation = first held-out event
    # test targets of users without validation follow the prefix directly
    no_val = np.setdiff1d(test.docs, val.docs)
    assert (test.positions[np.isin(test.docs, no_val)] == prefix[no_val]).all()


def test_prefix60_targets_are_every_suffix_position():
    lengths = [10, 3, 1]
    docs, positions = target_positions(lengths, "test")
    assert docs.tolist() == [0, 0, 0, 0, 1, 1, 2]
    assert positions.tolist() == [6, 7, 8, 9, 1, 2, 0]
    docs, positions = target_positions(lengths, "validation")
    assert len(docs) == 0 and len(positions) == 0


def test_unknown_protocol_and_part():
    with pytest.raises(ParameterError, match="--protocol: unknown protocol 'kfold'"):
        prefix_lengths([3], protocol="kfold")
    with pytest.raises(ParameterError, match="unknown target part 'train'"):
        target_positions([3], "train", protocol="loo")
