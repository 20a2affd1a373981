"""lla owns the thread counts of torch and numba (lla._threads; issue: numba's omp layer used to
leave torch on numba's thread count after every LDA fit, and the M-step's LSTM epochs then ran
up to ~35x slower beside another job)."""

import numpy as np
import pytest
import torch

import lla
from lla import _threads
from lla.data.synthetic import generate


@pytest.fixture(scope="module")
def corpus():
    return generate(n_docs=30, doc_length=40, n_topics=3, vocab_size=30, seed=0).corpus


@pytest.fixture
def torch_at_one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("n_threads", [None, 1, 2])
def test_torch_keeps_its_thread_count_after_an_lda_fit(corpus, torch_at_one_thread, n_threads):
    lla.LDA(3, n_iter=3, n_threads=n_threads, random_state=0, show_progress=False).fit(corpus)
    assert torch.get_num_threads() == 1


def test_the_m_step_runs_on_the_threads_asked_for(corpus, torch_at_one_thread, monkeypatch):
    seen = []
    real = lla.inference.sem.train_epoch

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(lla.inference.sem, "train_epoch", spy)
    lla.TopicLLA(3, embedding_size=4, hidden_size=4, n_iter=1, init_lda_iter=3,
                 init_lstm_epochs=1, lstm_epochs_per_iter=1, n_threads=2, random_state=0,
                 show_progress=False).fit(corpus)
    assert seen and set(seen) == {2}                   # after the LDA start too
    assert torch.get_num_threads() == 1                 # and put back afterwards
    seen.clear()
    lla.TopicLLA(3, embedding_size=4, hidden_size=4, n_iter=1, init_lda_iter=3,
                 init_lstm_epochs=1, lstm_epochs_per_iter=1, random_state=0,
                 show_progress=False).fit(corpus)
    assert set(seen) == {_threads.TORCH_DEFAULT_THREADS}


def test_sequential_loops_run_on_one_thread(torch_at_one_thread):
    calls = []

    class Owner:
        device = torch.device("cpu")

    @_threads.one_cpu_thread
    def loop(owner):
        calls.append(torch.get_num_threads())

    torch.set_num_threads(2)
    loop(Owner())
    assert calls == [1] and torch.get_num_threads() == 2


def test_same_threads_same_model(corpus):
    a = lla.LDA(3, n_iter=5, n_threads=2, random_state=4, show_progress=False).fit(corpus)
    b = lla.LDA(3, n_iter=5, n_threads=2, random_state=4, show_progress=False).fit(corpus)
    assert np.array_equal(a.z_, b.z_)
