"""The particle step shared by the particle filter (:mod:`.particle_filter`, held-out scoring)
and the particle smoother (:mod:`.smoother`, an SE-step): S particles for each of B slots of a
continuous-batching schedule, batched as the B·S rows of one prior step.

Per token w_t of every slot, with the locally optimal proposal (DESIGN §3):

    weigh        lp^s = log θ^s_t + log φ_{w_t}  (B, S, K);   log p(w_t | z^s_<t) = logsumexp_k lp^s
    propagate    z^s_t ~ π^s ∝ exp(lp^s); the prior advances every row by its z
    resample     systematic, in the slots whose ESS = 1 / Σ_s W_s² drops below S/2; the other
                 slots keep their particles (the ancestor of particle s is s)

A slot whose document starts at this step gets fresh rows and uniform weights first.  The two
callers differ only in what they read off (predictives and ranks, or the paths) and in how they
normalise the weights, so the order of the random draws of each stays exactly as it was.

:func:`trace_back` reads the kept path of every document back from the recorded topics and
ancestors of a population of rows (the smoother's particles, the beam SE-step's beam entries).
"""

import math

import numpy as np
import torch

from .sampling import categorical


class Particles:
    """S particles for each of B slots; row ``b·S + s`` of the prior's state is particle s of
    slot b.

    Attributes: ``state`` (the prior's state, R = B·S rows), ``log_w`` float32 (B, S) log
    weights.
    """

    def __init__(self, prior, n_slots, n_particles, generator):
        self.prior = prior
        self.B, self.S = int(n_slots), int(n_particles)
        self.R = self.B * self.S
        self.K = prior.n_topics
        self.generator = generator
        device = prior.device
        self.log_uniform = -math.log(self.S)
        self.log_w = torch.full((self.B, self.S), self.log_uniform, device=device)
        self._slot_base = (torch.arange(self.B, device=device) * self.S)[:, None]
        self._ramp = torch.arange(self.S, device=device, dtype=torch.float32)[None, :]
        self._identity = torch.arange(self.S, device=device)[None, :].expand(self.B, self.S)
        self.state = prior.initial_state(self.R)

    def start(self, starts):
        """Slots where ``starts`` (bool (B,)) begin a document: fresh rows, uniform weights."""
        self.state = self.prior.reset(self.state, starts.repeat_interleave(self.S))
        self.log_w = torch.where(starts[:, None], torch.full_like(self.log_w, self.log_uniform),
                                 self.log_w)

    def weigh(self, log_phi_rows):
        """log_phi_rows: float (B, K), log φ_{w_t} of each slot's token.  Returns (log θ
        (B, S, K), lp = log θ + log φ (B, S, K), log p(w_t | z^s_<t) (B, S))."""
        log_theta = self.prior.log_theta(self.state).view(self.B, self.S, self.K)
        lp = log_theta + log_phi_rows[:, None, :]
        return log_theta, lp, torch.logsumexp(lp, dim=2)

    def propagate(self, lp):
        """Draw z^s_t ∝ exp(lp) for every row and advance the prior.  Returns (z int64 (R,),
        π float (R, K))."""
        u = torch.rand(self.R, generator=self.generator, device=lp.device)
        z, probs = categorical(lp.reshape(self.R, self.K), u)
        self.state = self.prior.advance(self.state, z)
        return z, probs

    def resample(self, w, cdf):
        """Systematic resampling of the slots whose ESS = 1 / Σ_s w_s² < S/2, given the weights
        ``w`` (B, S) (normalised) and their cumulative sums ``cdf``.  Returns the ancestors
        int64 (B, S) (s itself in the slots left alone); those slots' weights become uniform."""
        need = (1.0 / (w * w).sum(dim=1)) < (self.S / 2.0)
        u0 = torch.rand(self.B, 1, generator=self.generator, device=w.device)
        if not bool(need.any()):                 # nothing to resample (the draw is still made)
            return self._identity
        positions = (u0 + self._ramp) / self.S * cdf[:, -1:]
        ancestors = torch.searchsorted(cdf, positions, right=True).clamp_(max=self.S - 1)
        ancestors = torch.where(need[:, None], ancestors, self._identity)
        self.state = self.prior.select(self.state, (self._slot_base + ancestors).reshape(-1))
        self.log_w = torch.where(need[:, None], torch.full_like(self.log_w, self.log_uniform),
                                 self.log_w)
        return ancestors


class ProgressCounter:
    """Report tokens done to a tqdm-like ``bar`` every 64 steps of a schedule (and at its last
    step), so that the bar costs nothing per token."""

    def __init__(self, bar, schedule):
        self.bar = bar
        self.active = (schedule.token_index >= 0).sum(axis=1) if bar is not None else None
        self.n_steps = schedule.n_steps
        self.done = 0

    def step(self, s):
        if self.bar is None:
            return
        self.done += int(self.active[s])
        if (s & 63) == 63 or s == self.n_steps - 1:
            self.bar.update(self.done)
            self.done = 0


def step_tensors(tokens, schedule, device, progress=None):
    """What every sequential sampler reads at each step of ``schedule`` (continuous batching,
    :func:`lla.inference.schedule.pack`): the word of every row at every step int64
    (n_steps, R) (gathered once; an idle row reads token 0), the schedule's token index int64
    (n_steps, R) (−1 = idle row) and start flags bool (n_steps, R) on ``device``, and a
    :class:`ProgressCounter` for ``progress``."""
    tok = torch.as_tensor(np.asarray(tokens, dtype=np.int64), device=device)
    index = torch.as_tensor(schedule.token_index, device=device)
    start = torch.as_tensor(schedule.start, device=device)
    return tok[index.clamp(min=0)], index, start, ProgressCounter(progress, schedule)


class PathRecord:
    """What a path sampler (particle smoother, beam) keeps per step for :func:`trace_back`:
    ``z`` (n_steps, B, width) the topic each row took, ``back`` (n_steps, B, width) the row of
    the previous step it continues, ``final`` (n_steps, B) the row a document ending at that
    step keeps; small integer types (int16 where K and the width allow)."""

    def __init__(self, schedule, lengths, n_topics, width, device):
        self.schedule = schedule
        doc = schedule.doc
        self.ends = (doc >= 0) & (schedule.position == lengths[np.maximum(doc, 0)] - 1)
        shape = (schedule.n_steps, schedule.n_slots, int(width))
        self.z = torch.zeros(shape, dtype=_small_int(n_topics), device=device)
        self.back = torch.zeros(shape, dtype=_small_int(width), device=device)
        self.final = torch.zeros(shape[:2], dtype=torch.int64, device=device)

    def paths(self, n):
        """int32 (n,): the kept path of every document (:func:`trace_back`)."""
        return trace_back(self.z, self.back, self.final, self.schedule, self.ends, n)


def _small_int(n):
    return torch.int16 if n < 2 ** 15 else torch.int32


def trace_back(z_hist, back, final, schedule, ends, n):
    """The paths of a population of rows per slot (particles, beam entries), read back to front.

    z_hist : (n_steps, B, S) tensor, the topic row r of slot b took at step s
    back : (n_steps, B, S) tensor: row r of step s+1 continues the path of row back[s, b, r]
        of step s (resampling ancestors; beam parents)
    final : (n_steps, B) tensor, the row whose path is kept where a document ends at step s
    schedule : the :class:`~lla.inference.schedule.Schedule`;  ends : bool (n_steps, B), where
        a document ends;  n : number of tokens

    Returns int32 (n,): the kept path of every document, aligned with the tokens.
    """
    z_hist = z_hist.cpu().numpy()
    back = back.cpu().numpy().astype(np.int64)
    final = final.cpu().numpy()
    token_index = schedule.token_index
    B = token_index.shape[1]
    out = np.zeros(n + 1, dtype=np.int32)  # slot n: writes of idle rows
    slots = np.arange(B)
    p = np.zeros(B, dtype=np.int64)
    for s in range(token_index.shape[0] - 1, -1, -1):
        row = np.where(ends[s], final[s], back[s, slots, p])   # the row followed at step s
        out[np.where(token_index[s] >= 0, token_index[s], n)] = z_hist[s, slots, row]
        p = row
    return out[:n]
