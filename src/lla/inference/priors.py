"""The *prior* protocol: what the SE-step and the particle filter need from a topic process.

A prior is any object with

    n_topics : int                      K
    device : torch.device               where its tensors live
    initial_state(n_rows) -> state      R fresh rows (nothing consumed but the start symbol)
    reset(state, mask) -> state         rows where mask (bool (R,)) become fresh
    log_theta(state) -> float (R, K)    log θ_t = log p(z_t = k | z_<t) of every row
    advance(state, z) -> state          feed z_t (int64 (R,)): the state for t+1
    select(state, index) -> state       rows ``index`` (int64 (R',)) (particle resampling)

Optional, a *linear read-out* (needed by the MH SE-step, :mod:`lla.inference.mh_step`, which
computes only the logits of the topics it proposes):

    features(state) -> float (R, H)     s_t of every row
    readout() -> (W float (K, H), b float (K,))   log θ_t = log_softmax(s_t Wᵀ + b)

``state`` is opaque (a tensor or a tuple of tensors with R rows).  The LSTM of topic-LLA
provides it through :meth:`lla.nn.dynamics.Dynamics.stepper`; :class:`DDPrior` is ddLDA's causal
window prior (DESIGN §4); :class:`LagDynamicsPrior` adapts the known dynamics of
:mod:`lla.data.synthetic`, so that the true model is scored by the very same particle filter as
the learned one.
"""

import numpy as np
import torch


class LagDynamicsPrior:
    """:class:`lla.data.synthetic.LagDynamics` (``condition_on="topic"``) as a prior.

    The state is the window of the last L topics, int64 (R, L), -1 before the document started.
    θ_t is computed by ``LagDynamics.weights`` itself (on the CPU, in float64), so the adapter
    cannot drift from the definition of the truth.
    """

    def __init__(self, dynamics, device="cpu"):
        if dynamics.condition_on != "topic":
            raise ValueError("LagDynamicsPrior needs topic-conditioned dynamics")
        self.dynamics = dynamics
        self.n_topics = dynamics.n_topics
        self.device = torch.device(device)

    def initial_state(self, n_rows):
        return torch.full((n_rows, self.dynamics.memory), -1, dtype=torch.int64,
                          device=self.device)

    def reset(self, state, mask):
        return torch.where(mask[:, None], torch.full_like(state, -1), state)

    def log_theta(self, state):
        theta = self.dynamics.weights(state.cpu().numpy())
        return torch.as_tensor(np.log(theta), dtype=torch.float32, device=self.device)

    def advance(self, state, z):
        return torch.cat([state[:, 1:], z[:, None].to(torch.int64)], dim=1)

    def select(self, state, index):
        return state[index]


def decay_weights(kernel, width, decay):
    """f(δ) for δ = 0..W as float64 (W+1,), ``f[0] = 0`` (unused): ``exponential`` is
    exp(−(δ−1)/decay), ``window`` is 1."""
    delta = np.arange(width + 1, dtype=np.float64)
    f = np.exp(-(delta - 1) / decay) if kernel == "exponential" else np.ones(width + 1)
    f[0] = 0.0
    return f


class DDPrior:
    """ddLDA's causal window prior (DESIGN §4), the distance-dependent CRP read left to right:

        θ_t,k = (α + Σ_{1 ≤ δ ≤ W} f(δ) [z_{t−δ} = k]) / (Kα + Σ_{1 ≤ δ ≤ min(W, t−1)} f(δ))

    with f = :func:`decay_weights`.  State: int64 (R, W), the last W topics, most recent last,
    −1 before the document starts."""

    def __init__(self, n_topics, alpha, weights, device="cpu"):
        self.n_topics = int(n_topics)
        self.alpha = float(alpha)
        self.device = torch.device(device)
        W = len(weights) - 1
        # column j of the state holds z_{t-(W-j)}: weight f(W - j)
        self.column_weights = torch.as_tensor(np.asarray(weights)[W - np.arange(W)],
                                              dtype=torch.float64, device=self.device)
        self.width = W

    def initial_state(self, n_rows):
        return torch.full((n_rows, self.width), -1, dtype=torch.int64, device=self.device)

    def reset(self, state, mask):
        return torch.where(mask[:, None], torch.full_like(state, -1), state)

    def theta(self, state):
        """θ_t float64 (R, K) of every row."""
        valid = state >= 0
        weights = torch.where(valid, self.column_weights, torch.zeros((), dtype=torch.float64,
                                                                      device=self.device))
        theta = torch.full((state.shape[0], self.n_topics), self.alpha, dtype=torch.float64,
                           device=self.device)
        theta.scatter_add_(1, state.clamp(min=0), weights.expand_as(state).contiguous())
        return theta / theta.sum(dim=1, keepdim=True)

    def log_theta(self, state):
        return torch.log(self.theta(state)).to(torch.float32)

    def advance(self, state, z):
        return torch.cat([state[:, 1:], z[:, None].to(torch.int64)], dim=1)

    def select(self, state, index):
        return state[index]

    def theta_of_history(self, history):
        """θ_t (K,) float64 after a 1-d topic history (reference for tests)."""
        state = self.initial_state(1)
        for k in history:
            state = self.advance(state, torch.tensor([int(k)]))
        return self.theta(state)[0].numpy()
