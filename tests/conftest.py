import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LLA_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data():
    """The benchmark data folder (../shared/data); tests that need it skip without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module of tiny models (on 2 busy cores a second thread made them
    5-10x slower: barrier waits dominate tiny ops); the previous count is restored after."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture
def word_dynamics():
    """A factory of small, sharpened word-reading dynamics networks (word-/char-LLA's shape):
    ``word_dynamics(V=7, K=3, seed=0)``, weights ×3 so that θ_t varies strongly with the
    history."""
    from lla.nn.dynamics import Dynamics, WordEncoder

    def make(V=7, K=3, seed=0):
        d = Dynamics(K, 5, 6, encoder=WordEncoder(V, 5))
        d.reset_parameters(torch.Generator().manual_seed(seed))
        with torch.no_grad():
            for p in d.parameters():
                p.mul_(3.0)
        return d.eval()
    return make


@pytest.fixture(scope="session")
def torchrun():
    """run(args, nproc=2, env=None, timeout=300, popen=False): ``python -m
    torch.distributed.run --standalone --nproc-per-node NPROC ARGS`` (torchrun) with this
    checkout's lla on the path and one thread per process; returns the CompletedProcess (or the
    Popen with ``popen=True``).  ARGS starting with "-m" run a module, else a script."""
    import subprocess
    import sys

    import lla
    src = str(Path(lla.__file__).resolve().parents[1])

    def run(args, *, nproc=2, env=None, timeout=300, popen=False):
        full_env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
                        PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
                        **(env or {}))
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={nproc}", *map(str, args)]
        if popen:
            return subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        return subprocess.run(cmd, env=full_env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    return run
