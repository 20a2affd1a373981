"""The SEM loop of lla.inference.sem: online SEM's blocks, their token positions (against a slow
twin), and an online iteration against the full one."""

import numpy as np
import pytest
import torch

from lla.data.synthetic import generate
from lla.inference.counts import topic_counts
from lla.inference.fused import fused_se_step_fn
from lla.inference.sem import (StepConfig, block_token_index, document_blocks, run_sem,
                               sem_iteration)
from lla.nn.dynamics import Dynamics, WordEncoder
from lla.nn.training import make_optimizer


def _slow_block_token_index(lengths, docs):
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return np.concatenate([np.arange(starts[d], starts[d] + lengths[d]) for d in docs]
                          + [np.zeros(0, dtype=np.int64)]).astype(np.int64)


def test_block_token_index_agrees_with_its_slow_twin():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 7, size=40)   # empty documents included
    lengths[[3, 17]] = 0
    for size in (0, 1, 5, 40):
        docs = np.sort(rng.choice(40, size=size, replace=False))
        assert np.array_equal(block_token_index(lengths, docs),
                              _slow_block_token_index(lengths, docs))
    # any order of the documents is honoured (the tokens come in the order of ``docs``)
    docs = np.array([9, 2, 30])
    assert np.array_equal(block_token_index(lengths, docs), _slow_block_token_index(lengths, docs))


@pytest.mark.parametrize("D, B", [(10, 3), (7, 7), (100, 4), (5, 1)])
def test_document_blocks_partition_the_documents_evenly(D, B):
    blocks = document_blocks(D, B, np.random.default_rng(1))
    assert len(blocks) == B
    assert np.array_equal(np.sort(np.concatenate(blocks)), np.arange(D))
    sizes = [len(b) for b in blocks]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
    assert all(np.array_equal(b, np.sort(b)) and b.dtype == np.int64 for b in blocks)


def test_document_blocks_differ_between_passes():
    first = document_blocks(100, 4, np.random.default_rng(1))
    again = document_blocks(100, 4, np.random.default_rng(1))
    other = document_blocks(100, 4, np.random.default_rng(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.fixture(scope="module")
def data():
    d = generate(n_docs=30, doc_length=(10, 30), n_topics=3, vocab_size=40, beta=0.1,
                 strength=6.0, min_lag=1, max_lag=2, seed=4)
    words, _, lengths = d.corpus.prefix_arrays()
    z = np.random.default_rng(0).integers(0, 3, size=len(words)).astype(np.int32)
    return np.asarray(words), np.asarray(lengths, dtype=np.int64), z, d.corpus.n_types


def _start(seed=0, n_types=None):
    """A topic-LLA dynamics (K = 3), or word-LLA's (input: the previous word of ``n_types``)."""
    encoder = None if n_types is None else WordEncoder(n_types, 6)
    dynamics = Dynamics(3, 6, 8, encoder=encoder).reset_parameters(
        torch.Generator().manual_seed(seed)).eval()
    return dynamics, make_optimizer(dynamics, 1e-2)


def _streams(iteration):
    return (torch.Generator().manual_seed(100 + iteration),
            torch.Generator().manual_seed(200 + iteration),
            np.random.default_rng(300 + iteration))


CONFIG = StepConfig(epochs=1, batch_size=8, bptt=16)


def _run(data, block_for, last=2, word_lla=False):
    words, lengths, z, V = data
    dynamics, optimizer = _start(n_types=V if word_lla else None)
    variant = dict(se_step_fn=fused_se_step_fn, symbols=words) if word_lla else {}
    n_wk = topic_counts(words, z, V, 3)
    history = []

    def after_iteration(it, z_it, n_wk_it, stats):
        history.append((z_it.copy(), n_wk_it.copy(), stats))
        return True

    z_out, n_wk_out, done, interrupted = run_sem(
        dynamics, optimizer, words, lengths, z, n_wk, 0.1, first=1, last=last, config=CONFIG,
        streams_for=_streams, after_iteration=after_iteration, block_for=block_for, **variant)
    assert done == last and not interrupted
    return z_out, n_wk_out, dynamics, history


@pytest.mark.parametrize("word_lla", [False, True])
def test_a_block_of_every_document_is_the_full_iteration(data, word_lla):
    """The block machinery (token positions, count update, word-LLA's input words) is the
    identity when the block is the whole corpus: same z, counts and LSTM as the full SEM
    iteration, bit for bit."""
    D = len(data[1])
    full = _run(data, None, word_lla=word_lla)
    everything = _run(data, lambda it: np.arange(D, dtype=np.int64), word_lla=word_lla)
    assert np.array_equal(full[0], everything[0]) and np.array_equal(full[1], everything[1])
    assert all(torch.equal(a, b) for a, b in zip(full[2].state_dict().values(),
                                                 everything[2].state_dict().values()))
    # power: a block of every document but one is not the full iteration
    most = _run(data, lambda it: np.arange(1, D, dtype=np.int64), word_lla=word_lla)
    assert not np.array_equal(full[0], most[0])
    if word_lla:
        return
    # and the loop's full iteration is sem_iteration itself
    words, lengths, z, V = data
    dynamics, optimizer = _start()
    z1, n1, _ = sem_iteration(dynamics, optimizer, words, lengths, topic_counts(words, z, V, 3),
                              0.1, CONFIG, _streams(1))
    assert np.array_equal(z1, full[3][0][0]) and np.array_equal(n1, full[3][0][1])


@pytest.mark.parametrize("word_lla", [False, True])
def test_an_online_iteration_samples_its_block_only_and_keeps_the_counts_exact(data, word_lla):
    words, lengths, z, V = data
    blocks = document_blocks(len(lengths), 3, np.random.default_rng(7))
    _, _, _, history = _run(data, lambda it: blocks[it - 1], last=3, word_lla=word_lla)
    # the first iteration is an SEM iteration on the block's documents alone (their words as
    # word-LLA's LSTM input), against φ of all the counts
    tokens = block_token_index(lengths, blocks[0])
    dynamics, optimizer = _start(n_types=V if word_lla else None)
    variant = dict(se_step_fn=fused_se_step_fn, symbols=words[tokens]) if word_lla else {}
    z_block, _, _ = sem_iteration(dynamics, optimizer, words[tokens], lengths[blocks[0]],
                                  topic_counts(words, z, V, 3), 0.1, CONFIG, _streams(1),
                                  **variant)
    assert np.array_equal(history[0][0][tokens], z_block)
    _, _, after_one, _ = _run(data, lambda it: blocks[it - 1], last=1, word_lla=word_lla)
    assert all(torch.equal(a, b) for a, b in zip(after_one.state_dict().values(),
                                                 dynamics.state_dict().values()))
    previous = z
    for (z_it, n_wk_it, stats), block in zip(history, blocks):
        inside = np.zeros(len(words), dtype=bool)
        inside[block_token_index(lengths, block)] = True
        assert np.array_equal(z_it[~inside], previous[~inside])   # the others keep their z
        assert np.any(z_it[inside] != previous[inside])           # the block was sampled
        assert np.array_equal(n_wk_it, topic_counts(words, z_it, V, 3))
        assert stats["block_documents"] == len(block) and stats["block_tokens"] == inside.sum()
        assert stats["changed"] == pytest.approx(np.mean(z_it[inside] != previous[inside]))
        previous = z_it
