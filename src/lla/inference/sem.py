"""Stochastic EM for the LLA family (DESIGN §2): counts, φ, one SEM iteration, and the loop.

    SE-step   z ~ Π_t π_t,  π_{t,k} ∝ θ_{t,k} φ_{w_t,k}     (φ fixed, :func:`se_step`)
    M-step    n_wk = #{w_t = w, z_t = k};  φ_{k,w} = (n_wk + β) / (n_k + Vβ)
              LSTM: Adam on Σ_t log θ_{t, z_t}, teacher forcing on the sampled z

The loop (:func:`run_sem`) knows nothing about files: after every finished iteration it calls
``after_iteration`` (which the model uses for validation, early stopping and checkpoints); on
Ctrl-C it puts the LSTM and the optimizer back to the end of the last finished iteration and
returns, so the caller keeps a consistent model.
"""

import copy
import time
from dataclasses import dataclass

import numpy as np

from ..nn.training import train_epoch
from .counts import FixedPhi, topic_counts
from .schedule import auto_slots
from .se_step import se_step


@dataclass
class StepConfig:
    """Knobs of one SEM iteration (see :class:`lla.TopicLLA` for their meaning)."""

    epochs: int = 2
    batch_size: int = 32
    bptt: int = 64
    n_slots: int = 0  # documents side by side in the SE-step; 0 = automatic
    clip: float = 1.0


def fit_lstm(dynamics, optimizer, z, lengths, epochs, config, rng, generator, bar=None,
             symbols=None):
    """``epochs`` teacher-forced epochs on z (targets) with LSTM inputs ``symbols`` (None: z
    itself, topic-LLA; the words for word-/char-LLA).  ``bar``: optional tqdm-like progress,
    updated with tokens.  Returns the last epoch's mean loss (nats/token)."""
    loss = float("nan")
    for _ in range(int(epochs)):
        loss = train_epoch(dynamics, optimizer, z, lengths, batch_size=config.batch_size,
                           bptt=config.bptt, rng=rng, generator=generator, clip=config.clip,
                           symbols=symbols, progress=bar)
        if bar is not None:
            bar.set_postfix(loss=f"{loss:.3f}")
    return loss


def sequential_se_step(dynamics, phi, words, lengths, generator, config):
    """Topic-LLA's SE-step: θ_t from the LSTM run on the sampled z_<t (sequential in t, batched
    across documents, :func:`lla.inference.se_step.se_step`).  ``phi`` is the step's
    :class:`~lla.inference.counts.FixedPhi`.  Returns int32 (N,)."""
    return se_step(dynamics.stepper(), phi.log_phi_wk, words, lengths, generator=generator,
                   n_slots=config.n_slots or auto_slots(lengths))


def sem_iteration(dynamics, optimizer, words, lengths, n_wk, beta, config, streams, *,
                  se_step_fn=sequential_se_step, symbols=None):
    """One SE-step + M-step.

    Parameters
    ----------
    dynamics : lla.nn.dynamics.Dynamics (updated in place by the M-step)
    optimizer : its optimizer
    words : int (N,), lengths : int (D,): the training tokens, documents concatenated
    n_wk : int32 (V, K), the counts φ is computed from for this SE-step
    beta : β
    config : StepConfig
    streams : (se_generator, dropout_generator, shuffle_rng) for this iteration
    se_step_fn : se_step_fn(dynamics, phi, words, lengths, generator, config) -> z int32 (N,),
        ``phi`` the :class:`~lla.inference.counts.FixedPhi` of n_wk and β (its log φ or its MH
        alias tables are made when the sampler asks for them); default
        :func:`sequential_se_step` (topic-LLA); word-/char-LLA pass their fused sampler
    symbols : the LSTM's input sequence for the M-step (None: z, topic-LLA; the words for
        word-/char-LLA)

    Returns (z int32 (N,), n_wk int32 (V, K), stats dict).
    """
    se_gen, drop_gen, shuffle_rng = streams
    V, K = n_wk.shape
    device = dynamics.device
    start = time.perf_counter()
    z = se_step_fn(dynamics, FixedPhi(n_wk, beta, device), words, lengths, se_gen, config)
    se_seconds = time.perf_counter() - start
    n_wk = topic_counts(words, z, V, K)
    start = time.perf_counter()
    loss = fit_lstm(dynamics, optimizer, z, lengths, config.epochs, config, shuffle_rng, drop_gen,
                    symbols=symbols)
    return z, n_wk, {
        "se_seconds": se_seconds,
        "se_tokens_per_second": len(words) / max(se_seconds, 1e-9),
        "lstm_seconds": time.perf_counter() - start,
        "lstm_loss": loss,
        "phi_density": float(np.count_nonzero(n_wk)) / n_wk.size,
        "changed": None,
    }


def run_sem(dynamics, optimizer, words, lengths, z, n_wk, beta, *, first, last, config,
            streams_for, after_iteration, se_step_fn=sequential_se_step, symbols=None):
    """Iterations ``first``..``last`` (inclusive) of SEM (``se_step_fn``, ``symbols``: see
    :func:`sem_iteration`).

    streams_for(iteration) -> (se_generator, dropout_generator, shuffle_rng): per-iteration random
    streams derived from the model's seed, so a resumed run draws exactly what an uninterrupted
    one would have.
    after_iteration(iteration, z, n_wk, stats) -> bool: called after each finished iteration
    (checkpoint, validation); ``False`` stops (early stopping).

    Returns (z, n_wk, last_finished_iteration, interrupted).
    """
    done = first - 1
    snapshot = (copy.deepcopy(dynamics.state_dict()), copy.deepcopy(optimizer.state_dict()))
    try:
        for it in range(first, last + 1):
            z_new, n_wk_new, stats = sem_iteration(dynamics, optimizer, words, lengths, n_wk,
                                                   beta, config, streams_for(it),
                                                   se_step_fn=se_step_fn, symbols=symbols)
            stats["changed"] = float(np.mean(z_new != z))
            z, n_wk, done = z_new, n_wk_new, it
            snapshot = (copy.deepcopy(dynamics.state_dict()),
                        copy.deepcopy(optimizer.state_dict()))
            if after_iteration(it, z, n_wk, stats) is False:
                break
    except KeyboardInterrupt:
        dynamics.load_state_dict(snapshot[0])
        optimizer.load_state_dict(snapshot[1])
        dynamics.eval()
        return z, n_wk, done, True
    return z, n_wk, done, False
