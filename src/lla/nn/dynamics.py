"""The topic-dynamics network shared by every LLA variant (DESIGN §1).

    x_{t-1} = encoder(c_{t-1})          (x_0 = a learned start vector)
    s_t     = LSTM(x_{t-1}, s_{t-1})    (s_0 = 0)
    θ_t     = softmax(W_p s_t + b_p)    (K-way "topic proportions at time t")

For topic-LLA the conditioning symbol c is the topic z and the encoder is a K×E topic-embedding
table (:class:`TopicEncoder`); word- and char-LLA swap in other encoders.  Symbol id ``-1`` means
"start of document" everywhere and selects x_0.

Two ways to run the same network:

* :meth:`Dynamics.forward` — teacher forcing over whole (padded) sequences with the fused
  ``torch.nn.LSTM``; used for training (M-step) and by the slow reference twins.
* :meth:`Dynamics.stepper` — a :class:`DynamicsStepper` that advances one token at a time for a
  batch of independent rows (SE-step, particle filter, and the fused recurrences of
  :mod:`lla.inference.fused`).  For a table encoder the input projection
  W_ih x + b is folded into a (K+1)×4H table, so one step costs one H×4H and one H×K product per
  row.

torch only, no module-level state, no global RNG: parameters are initialised and dropout masks
drawn from explicit ``torch.Generator`` objects.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

START = -1  # symbol id of "no previous symbol": selects the start vector x_0


class TopicEncoder(nn.Module):
    """x = embedding of the previous topic.

    Parameters: ``weight`` (K, E) — the topic embedding (DESIGN §5's "topic embedding"),
    ``start`` (E,) — x_0.
    """

    def __init__(self, n_symbols, embedding_size, *, device=None):
        super().__init__()
        self.n_symbols = int(n_symbols)
        self.embedding_size = int(embedding_size)
        self.weight = nn.Parameter(torch.empty(n_symbols, embedding_size, device=device))
        self.start = nn.Parameter(torch.empty(embedding_size, device=device))

    def reset_parameters(self, generator):
        with torch.no_grad():
            # drawn on the CPU from ``generator`` and copied: identical on every device
            self.weight.copy_(torch.empty(self.weight.shape).normal_(0.0, 0.1, generator=generator))
            self.start.copy_(torch.empty(self.start.shape).normal_(0.0, 0.1, generator=generator))

    def table(self):
        """(K+1, E): row k = embedding of symbol k, the last row = x_0."""
        return torch.cat([self.weight, self.start[None, :]], dim=0)

    def forward(self, symbols):
        """symbols: int64 (...,) with -1 = start → float (..., E)."""
        ids = torch.where(symbols >= 0, symbols, torch.full_like(symbols, self.n_symbols))
        return F.embedding(ids, self.table())


def _dropout(x, p, generator, training):
    """Inverted dropout with an explicit generator (``F.dropout`` uses the global RNG)."""
    if not training or p <= 0.0:
        return x
    keep = 1.0 - p
    mask = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) < keep
    return x * mask / keep


class Dynamics(nn.Module):
    """encoder → LSTM(E→H) → Linear(H→K) → log_softmax: log θ_t.

    Parameters
    ----------
    n_topics : K
    embedding_size : E
    hidden_size : H
    encoder : module mapping int64 symbols (..., ) with -1 = start to (..., E); default a
        :class:`TopicEncoder` over K topics (topic-LLA)
    dropout : dropout probability on the LSTM input and on s_t before W_p (training only)
    """

    def __init__(self, n_topics, embedding_size=128, hidden_size=128, *, encoder=None,
                 dropout=0.0, device=None):
        super().__init__()
        self.n_topics = int(n_topics)
        self.embedding_size = int(embedding_size)
        self.hidden_size = int(hidden_size)
        self.dropout = float(dropout)
        self.encoder = encoder if encoder is not None else TopicEncoder(
            n_topics, embedding_size, device=device)
        # built on the meta device, then materialised uninitialised: the default initialisation
        # would draw from the global RNG; reset_parameters() fills them from a generator
        device = torch.device("cpu") if device is None else torch.device(device)
        self.lstm = nn.LSTM(embedding_size, hidden_size, batch_first=True,
                            device="meta").to_empty(device=device)
        self.proj = nn.Linear(hidden_size, n_topics, device="meta").to_empty(device=device)

    @property
    def device(self):
        return self.proj.weight.device

    def reset_parameters(self, generator):
        """Initialise every parameter from ``generator`` (a ``torch.Generator`` on the CPU);
        the values are then copied to the model's device, so CPU and CUDA start identically."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            if hasattr(self.encoder, "reset_parameters"):
                self.encoder.reset_parameters(generator)
            for p in list(self.lstm.parameters()) + list(self.proj.parameters()):
                p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=generator))
        return self

    def forward(self, symbols, state=None, *, generator=None):
        """Teacher forcing.

        Parameters
        ----------
        symbols : int64 (B, T), c_{t-1} for t = 1..T (-1 = start, so row = [-1, z_1, .., z_{T-1}])
        state : (h, c), each (1, B, H), the LSTM state before the first step; None = zeros
        generator : torch.Generator on the model's device, for dropout masks (training only)

        Returns
        -------
        log_theta : float (B, T, K), log θ_t
        state : (h, c) after the last step (for truncated BPTT)
        """
        return self.run_inputs(self.encoder(symbols), state, generator=generator)

    def run_inputs(self, x, state=None, *, generator=None):
        """The network after the encoder: x (B, T, E), already encoded inputs x_{t-1} →
        (log θ (B, T, K), state).  Same arguments and dropout as :meth:`forward`."""
        x = _dropout(x, self.dropout, generator, self.training)
        out, state = self.lstm(x, state)
        out = _dropout(out, self.dropout, generator, self.training)
        return F.log_softmax(self.proj(out), dim=-1), state

    def input_table(self):
        """(C+1, E): the encoded input of every conditioning symbol (last row: x_0), for
        encoders that provide ``table()`` (topic, word and char encoders)."""
        return self.encoder.table()

    def log_theta_of_history(self, history):
        """log θ_t (K,) after the 1-d history c_1..c_{t-1} (a slow, independent path used by the
        reference twins: a full teacher-forced pass per call)."""
        history = torch.as_tensor(history, dtype=torch.int64, device=self.device).reshape(-1)
        symbols = torch.cat([torch.full((1,), START, dtype=torch.int64, device=self.device),
                             history])[None, :]
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                log_theta, _ = self(symbols)
        finally:
            self.train(was_training)
        return log_theta[0, -1]

    def stepper(self):
        """A :class:`DynamicsStepper` with the current weights (no autograd, dropout off)."""
        return DynamicsStepper(self)

    def n_parameters(self):
        return sum(p.numel() for p in self.parameters())


class WordEncoder(TopicEncoder):
    """x = embedding of the previous *word* (word-LLA): a V×E table ``weight`` + x_0 ``start``.

    The same layout as :class:`TopicEncoder` with V symbols instead of K."""


class DynamicsStepper:
    """Advance the dynamics one token at a time for R independent rows (no autograd).

    Implements the *prior* protocol of :mod:`lla.inference.priors`: the state after consuming
    c_{<t} is (h, c), each float (R, H); ``log_theta(state)`` gives log θ_t (R, K);
    ``advance(state, z)`` feeds z_t.  A row in its fresh state has consumed only x_0.  It also
    has the protocol's optional linear read-out (``features``, ``readout``).
    """

    def __init__(self, dynamics):
        d = dynamics
        self.n_topics = d.n_topics
        self.device = d.device
        with torch.no_grad():
            lstm = d.lstm
            w_ih, w_hh = lstm.weight_ih_l0.detach(), lstm.weight_hh_l0.detach()
            bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach()
            H = d.hidden_size
            # the gates in the order (i, f, o, g) instead of nn.LSTM's (i, f, g, o), so that the
            # three sigmoid gates are one contiguous block (one sigmoid call per step)
            order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H),
                               torch.arange(2 * H, 3 * H)]).to(w_ih.device)
            w_ih, w_hh, bias = w_ih[order], w_hh[order], bias[order]
            if hasattr(d.encoder, "table"):
                # (K+1, 4H): W_ih x_k + b for every symbol k (last row: x_0)
                self._input_table = (d.encoder.table().detach() @ w_ih.T + bias).contiguous()
            else:  # pragma: no cover - encoders without a table (later variants)
                raise TypeError("DynamicsStepper needs an encoder with a table()")
            self._start_row = self._input_table.shape[0] - 1   # x_0's row
            self._w_hh_t = w_hh.T.contiguous()           # (H, 4H)
            self._w_p_t = d.proj.weight.detach().T.contiguous()  # (H, K)
            self._b_p = d.proj.bias.detach().clone()      # (K,)
            zeros = torch.zeros(1, H, device=self.device)
            self._fresh = self._cell(self._input_table[-1:], (zeros, zeros))  # s_1 = LSTM(x_0, 0)

    def _cell(self, gates_in, state):
        h, c = state
        H = h.shape[1]
        gates = torch.addmm(gates_in, h, self._w_hh_t)    # (R, 4H), gates (i, f, o, g)
        ifo = gates[:, :3 * H].sigmoid_()
        g = gates[:, 3 * H:].tanh_()
        c = ifo[:, H:2 * H] * c + ifo[:, :H] * g
        h = ifo[:, 2 * H:] * torch.tanh(c)
        return h, c

    def initial_state(self, n_rows):
        h, c = self._fresh
        return h.expand(n_rows, -1).clone(), c.expand(n_rows, -1).clone()

    def reset(self, state, mask):
        """Rows where ``mask`` (bool (R,)) start a new document: fresh state."""
        h, c = state
        m = mask[:, None]
        return torch.where(m, self._fresh[0], h), torch.where(m, self._fresh[1], c)

    def log_theta(self, state):
        """log θ_t, float (R, K)."""
        return torch.log_softmax(torch.addmm(self._b_p, state[0], self._w_p_t), dim=1)

    def features(self, state):
        """s_t, float (R, H): log θ_t = log_softmax(s_t W_pᵀ + b_p) (see :meth:`readout`)."""
        return state[0]

    def readout(self):
        """(W_p float (K, H), b_p float (K,)): the linear read-out of θ_t from
        :meth:`features`, for samplers that need only a few of the K logits (the MH SE-step)."""
        return self._w_p_t.T, self._b_p

    def advance(self, state, z):
        """Feed symbol c_t (int64 (R,): a topic for topic-LLA, a word for word-/char-LLA; -1 =
        the start symbol, i.e. x_0, the input table's last row) and return the state for
        t+1."""
        idx = torch.where(z >= 0, z, torch.full_like(z, self._start_row))
        return self._cell(self._input_table.index_select(0, idx), state)

    def select(self, state, index):
        """Rows ``index`` (int64 (R',)) of the state (particle resampling)."""
        return state[0].index_select(0, index), state[1].index_select(0, index)
