"""M-step training with separate input (words) and target (z) sequences (word-/char-LLA)."""

import numpy as np
import pytest
import torch

from lla.nn.dynamics import Dynamics
from lla.nn.training import make_optimizer, sequence_loss, train_epoch

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see conftest


def test_train_epoch_with_symbols_equal_to_z_is_topic_training():
    rng = np.random.default_rng(1)
    lengths = np.array([5, 8, 3, 7])
    z = rng.integers(0, 3, lengths.sum())
    results = []
    for symbols in (None, z):
        d = Dynamics(3, 4, 5).reset_parameters(torch.Generator().manual_seed(0))
        opt = make_optimizer(d, 1e-2)
        loss = train_epoch(d, opt, z, lengths, batch_size=2, bptt=3,
                           rng=np.random.default_rng(0), generator=torch.Generator(),
                           symbols=symbols)
        results.append((loss, d.state_dict()))
    assert results[0][0] == results[1][0]
    assert all(torch.equal(results[0][1][k], results[1][1][k]) for k in results[0][1])


def test_word_inputs_feed_the_lstm_and_z_are_the_targets(word_dynamics):
    """The loss of a model depends on the words fed in, and training on (words → z) lowers it."""
    rng = np.random.default_rng(2)
    lengths = np.array([12] * 8)
    words = rng.integers(0, 7, lengths.sum())
    z = np.concatenate([[0], words[:-1] % 3])            # z_t is a function of w_{t-1}
    z[np.cumsum(lengths)[:-1]] = 0
    d = word_dynamics()
    shuffled = rng.permutation(words)
    assert sequence_loss(d, z, lengths, symbols=words) != sequence_loss(d, z, lengths,
                                                                         symbols=shuffled)
    before = sequence_loss(d, z, lengths, symbols=words)
    opt = make_optimizer(d, 3e-2)
    for epoch in range(15):
        train_epoch(d, opt, z, lengths, batch_size=4, bptt=5, rng=np.random.default_rng(epoch),
                    generator=torch.Generator(), symbols=words)
    after = sequence_loss(d, z, lengths, symbols=words)
    assert after < 0.3 * before
