import itertools

import numpy as np
import pytest
import torch

from lla.nn.dynamics import Dynamics


class TinyModel:
    """A tiny topic-LLA (K=3) with strong dynamics, for checks against exact enumeration."""

    def __init__(self, K=3, V=6, seed=0):
        d = Dynamics(K, 4, 5).reset_parameters(torch.Generator().manual_seed(seed))
        with torch.no_grad():
            for p in d.parameters():
                p.mul_(4.0)  # make θ_t depend strongly on the history
        self.dynamics = d.eval()
        rng = np.random.default_rng(seed)
        self.topic_word = rng.dirichlet(np.full(V, 0.5), size=K)  # φ (K, V)
        self.log_phi_t = torch.as_tensor(np.log(self.topic_word.T), dtype=torch.float32)
        self.K = K
        self._cache = {}

    def theta(self, history):
        """θ_t (K,) float64 through the slow teacher-forced path (memoised per history)."""
        key = tuple(int(k) for k in history)
        if key not in self._cache:
            self._cache[key] = torch.exp(
                self.dynamics.log_theta_of_history(np.array(key, dtype=np.int64))).double().numpy()
        return self._cache[key]

    def path_distribution(self, words):
        """Exact q(z_1..z_N) = Π_t π_t(z_t | z_<t) of the sequential SE-step sampler, over all
        K^N paths (itertools.product order)."""
        probs = []
        for path in itertools.product(range(self.K), repeat=len(words)):
            q = 1.0
            for t, w in enumerate(words):
                pi = self.theta(np.array(path[:t])) * self.topic_word[:, w]
                q *= pi[path[t]] / pi.sum()
            probs.append(q)
        return np.array(probs)


@pytest.fixture(scope="module")
def tiny():
    return TinyModel()

