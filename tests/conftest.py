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
