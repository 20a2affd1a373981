"""θ_t of every token in one teacher-forced pass, for the LLA variants whose LSTM reads the
observed *words* (word-/char-LLA, DESIGN §1): their θ_t depends on w_<t only, never on z, so
the recurrence runs once over the words and no sampling happens inside it (DESIGN §2, "a whole
batch is one fused LSTM pass").

* :func:`fused_log_theta` — the pass itself: yields log θ_t for windows of tokens.
* :func:`fused_se_step` — word-/char-LLA's SE-step on top of it: z_t ~ π_t ∝ θ_{t,k} φ_{w_t,k}
  for every token at once (an exact joint draw of z given φ and the LSTM).

Exact held-out scoring over the same pass lives in :mod:`lla.inference.exact`.
"""

import numpy as np
import torch
from torch.nn import functional as F

from .._threads import one_cpu_thread
from ..nn.dynamics import DynamicsStepper
from .sampling import categorical
from .schedule import auto_slots, pack

#: padded tokens per batch of the ``"torch"`` recurrence (batch × longest document): bounds the
#: (B, W, K) buffers
DEFAULT_BATCH_TOKENS = 1 << 16
#: LSTM steps per window (the state is carried across windows)
DEFAULT_WINDOW = 256


@torch.no_grad()
def fused_log_theta(dynamics, symbols, lengths, *, n_slots=None, batch_tokens=None, window=None,
                    recurrence="auto"):
    """Teacher-forced log θ_t of whole documents whose LSTM input does not depend on z
    (word-/char-LLA: x_{t-1} = encoder(w_{t-1})), for every token, without any sampling in the
    loop: the LSTM runs over the observed words and W_p + softmax run on whole windows.

    Two ways to run the recurrence (same θ, tested):

    * ``"torch"`` — padded batches through ``torch.nn.LSTM`` (cuDNN on a GPU): documents sorted by
      length, at most ``n_slots`` documents and about ``batch_tokens`` padded tokens per batch,
      in windows of ``window`` steps with the state carried across windows.
    * ``"table"`` — continuous batching (:mod:`lla.inference.schedule`, ``n_slots`` rows or
      about total / longest): a :class:`~lla.nn.dynamics.DynamicsStepper` whose input projection
      W_ih x + b is a (C+1)×4H table computed once per call, so a step costs one h·W_hh product
      per row; the hidden states of ``window`` steps are then projected and normalised at once.
      On a CPU this was ~2–3× faster than padded ``nn.LSTM`` batches (movielens' lengths are
      very skewed, so padding wasted most of the batch).
    * ``"auto"`` — torch on CUDA, table elsewhere.

    Parameters
    ----------
    dynamics : lla.nn.dynamics.Dynamics (used as is, in eval mode; no autograd); its encoder
        needs ``table()``
    symbols : int array (N,), the documents' tokens concatenated (c_1..c_{N_d} per document)
    lengths : int array (D,), N_d
    n_slots : documents processed side by side (None: automatic, see above)
    batch_tokens, window : None: :data:`DEFAULT_BATCH_TOKENS`, :data:`DEFAULT_WINDOW`

    Yields
    ------
    index : int64 tensor (..., ) on the model's device: flat position (into ``symbols``) of the
        token of each cell, -1 on padding / idle cells
    log_theta : float tensor (..., K): log θ_t, the prior of that token given c_{<t}
    """
    device = dynamics.device
    if recurrence == "auto":
        recurrence = "torch" if device.type == "cuda" else "table"
    if recurrence not in ("torch", "table"):
        raise ValueError(f"recurrence must be 'auto', 'torch' or 'table', got {recurrence!r}")
    lengths = np.asarray(lengths, dtype=np.int64)
    symbols = np.asarray(symbols, dtype=np.int64)
    window = int(window or DEFAULT_WINDOW)
    batch_tokens = int(batch_tokens or DEFAULT_BATCH_TOKENS)
    was = dynamics.training
    dynamics.eval()
    try:
        if recurrence == "table":
            yield from _fused_table(dynamics, symbols, lengths, window, n_slots)
        else:
            yield from _fused_torch(dynamics, symbols, lengths, batch_tokens, window, n_slots)
    finally:
        dynamics.train(was)


def _fused_table(dynamics, symbols, lengths, window, n_slots):
    device = dynamics.device
    schedule = pack(lengths, int(n_slots) if n_slots else auto_slots(lengths))
    stepper = DynamicsStepper(dynamics)
    tok = torch.as_tensor(symbols, device=device)
    index = torch.as_tensor(schedule.token_index, device=device)
    start = torch.as_tensor(schedule.start, device=device)
    R, H = schedule.n_slots, dynamics.hidden_size
    state = stepper.initial_state(R)
    for a in range(0, schedule.n_steps, int(window)):
        steps = range(a, min(a + int(window), schedule.n_steps))
        hs = torch.empty(len(steps), R, H, device=device)
        for j, s in enumerate(steps):
            state = stepper.reset(state, start[s])
            hs[j] = state[0]
            state = stepper.advance(state, tok[index[s].clamp(min=0)])
        yield index[a:a + len(steps)], F.log_softmax(dynamics.proj(hs), dim=-1)


def _fused_torch(dynamics, symbols, lengths, batch_tokens, window, n_slots):
    device = dynamics.device
    ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    table = dynamics.input_table()
    start_row = table.shape[0] - 1
    order = np.argsort(-lengths, kind="stable")
    order = order[lengths[order] > 0]
    i = 0
    while i < len(order):
        L = int(lengths[order[i]])
        B = max(1, int(batch_tokens) // max(L, 1))
        if n_slots:
            B = min(B, int(n_slots))
        docs = order[i:i + B]
        i += len(docs)
        t = np.arange(L)[None, :]
        valid = t < lengths[docs][:, None]
        index = np.where(valid, ptr[docs][:, None] + t, -1)
        prev = np.where(valid & (t > 0), symbols[np.maximum(index - 1, 0)], 0)
        prev[:, 0] = start_row
        index_t = torch.as_tensor(index, device=device)
        prev_t = torch.as_tensor(prev, device=device)
        state = None
        for a in range(0, L, int(window)):
            x = F.embedding(prev_t[:, a:a + window], table)
            log_theta, state = dynamics.run_inputs(x, state)
            yield index_t[:, a:a + window], log_theta


@one_cpu_thread
@torch.no_grad()
def fused_se_step(dynamics, log_phi_wk, words, lengths, generator, config=None):
    """SE-step of word-/char-LLA: z_t ~ π_t ∝ θ_{t,k} φ_{w_t,k} for every token, where θ_t comes
    from one teacher-forced LSTM pass over the words (no dependence on the sampled z).  Runs on
    one CPU thread (:func:`lla._threads.one_cpu_thread`).

    Parameters
    ----------
    dynamics : lla.nn.dynamics.Dynamics whose encoder reads words
    log_phi_wk : float (V, K) tensor on the model's device, log φ_{w,k} (word-major)
    words : int (N,), training tokens, documents concatenated; lengths : int (D,)
    generator : torch.Generator on the model's device (one uniform per padded position)
    config : :class:`lla.inference.sem.StepConfig` or None; ``config.n_slots`` > 0: documents
        side by side

    Returns int32 (N,), the sampled z aligned with ``words``.
    """
    device = dynamics.device
    words = np.asarray(words, dtype=np.int64)
    n = len(words)
    K = dynamics.n_topics
    tok = torch.as_tensor(words, device=device)
    z_buf = torch.zeros(n + 1, dtype=torch.int64, device=device)    # slot n: padding writes
    n_slots = getattr(config, "n_slots", 0) or None
    for index, log_theta in fused_log_theta(dynamics, words, lengths, n_slots=n_slots):
        w = tok[index.clamp(min=0)]
        u = torch.rand(index.numel(), generator=generator, device=device)
        z, _ = categorical((log_theta + log_phi_wk[w]).reshape(-1, K), u)
        z_buf[torch.where(index >= 0, index, n).reshape(-1)] = z
    return z_buf[:n].to(torch.int32).cpu().numpy()


def fused_se_step_fn(dynamics, phi, words, lengths, generator, config=None):
    """The ``se_step_fn`` of word-/char-LLA (:func:`lla.inference.sem.sem_iteration`):
    :func:`fused_se_step` with the log φ of the step's
    :class:`~lla.inference.counts.FixedPhi` ``phi``."""
    return fused_se_step(dynamics, phi.log_phi_wk, words, lengths, generator, config)
