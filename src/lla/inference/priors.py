"""The *prior* protocol: what the SE-step and the particle filter need from a topic process.

A prior is any object with

    n_topics : int                      K
    device : torch.device               where its tensors live
    initial_state(n_rows) -> state      R fresh rows (nothing consumed but the start symbol)
    reset(state, mask) -> state         rows where mask (bool (R,)) become fresh
    log_theta(state) -> float (R, K)    log θ_t = log p(z_t = k | z_<t) of every row
    advance(state, z) -> state          feed z_t (int64 (R,)): the state for t+1
    select(state, index) -> state       rows ``index`` (int64 (R',)) (particle resampling)

``state`` is opaque (a tensor or a tuple of tensors with R rows).  The LSTM of topic-LLA
provides it through :meth:`lla.nn.dynamics.Dynamics.stepper`; :class:`LagDynamicsPrior` adapts
the known dynamics of :mod:`lla.data.synthetic`, so that the true model is scored by the very
same particle filter as the learned one.
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
