"""How many threads torch and numba use: lla decides, every time (DESIGN §7).

torch's intra-op pool and numba's ``omp`` threading layer share one OpenMP runtime, and a
``numba.set_num_threads`` call (which every parallel LDA sweep makes) changes the thread count
that torch reads afterwards.  Measured on 2 busy cores with ``OMP_NUM_THREADS=1``: after an LDA
fit ``torch.get_num_threads()`` went from 1 to 2, and the M-step's LSTM epochs that followed ran
up to ~35× slower (2,133 s against 61 s; identical model arrays).  So lla never relies on the
ambient setting: every step sets the count it wants and puts the previous one back.

One setting, ``n_threads`` (the CLI's ``--threads``), is the number of threads for both
libraries.  ``None`` keeps each library's own default, *as it was when lla was imported*: torch's
(``OMP_NUM_THREADS`` or all cores) for the networks, numba's (``NUMBA_NUM_THREADS`` or all
cores) for the Gibbs sweeps — and lla holds each at that value whatever the other one does.

The sequential per-token loops (SE-step, particle filter, fused recurrences) run on one torch
thread whatever the setting (:func:`one_cpu_thread`): they issue ~30 tiny tensor ops per token
step, where intra-op threads only add barrier waits (measured on 2 busy cores: movielens SE-step
163k tokens/s on one thread vs 61k on two).
"""

import contextlib
import functools

import torch

#: torch's thread count when lla was imported (before any numba call of lla could change it)
TORCH_DEFAULT_THREADS = torch.get_num_threads()


def torch_thread_count(n_threads=None):
    """The torch thread count lla uses for ``n_threads`` (None: :data:`TORCH_DEFAULT_THREADS`)."""
    return int(n_threads) if n_threads is not None else TORCH_DEFAULT_THREADS


def numba_thread_count(n_threads=None):
    """The numba thread count lla uses for ``n_threads`` (None: all of numba's threads), capped
    at the size of numba's pool."""
    import numba
    pool = numba.config.NUMBA_NUM_THREADS
    wanted = n_threads if isinstance(n_threads, int) and n_threads >= 1 else pool  # bad: checked
    return max(1, min(int(wanted), pool))                                         # by the caller


@contextlib.contextmanager
def torch_threads(n_threads=None):
    """torch runs on :func:`torch_thread_count` (``n_threads``) threads inside the block; the
    previous count is restored after it."""
    old = torch.get_num_threads()
    torch.set_num_threads(torch_thread_count(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextlib.contextmanager
def numba_threads(n):
    """numba's parallel loops use ``n`` threads inside the block.  Afterwards numba's count *and
    torch's* are put back: under numba's ``omp`` layer the first would otherwise change the
    second."""
    import numba
    old_torch = torch.get_num_threads()   # first: numba's first call starts its pool, which
    old_numba = numba.get_num_threads()   # sets the OpenMP count torch reads
    numba.set_num_threads(int(n))
    try:
        yield
    finally:
        numba.set_num_threads(old_numba)
        torch.set_num_threads(old_torch)


def numba_steps(method):
    """Decorator for the methods of a model (with an ``n_threads`` hyper-parameter) that call
    numba's parallel kernels: they run on ``numba_thread_count(self.n_threads)`` threads, and
    afterwards numba's and torch's counts are what they were before the call — even when the
    call was the first parallel launch of the process, which starts numba's OpenMP pool and
    sets the count torch reads."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with numba_threads(numba_thread_count(self.n_threads)):
            return method(self, *args, **kwargs)
    return wrapper


def one_cpu_thread(function):
    """Decorator: run ``function(owner, ...)`` on one torch thread when ``owner.device`` (its
    first argument: a prior, a network) is a CPU device; no effect on CUDA devices."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        owner = args[0] if args else next(iter(kwargs.values()))
        if torch.device(owner.device).type != "cpu":
            return function(*args, **kwargs)
        old = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return function(*args, **kwargs)
        finally:
            torch.set_num_threads(old)
    return wrapper
