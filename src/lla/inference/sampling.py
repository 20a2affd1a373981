"""Batched categorical draws on the model's device (inverse CDF, one uniform per row)."""

import torch


def categorical(log_weights, uniforms):
    """Draw one index per row with probability ∝ exp(log_weights).

    Parameters
    ----------
    log_weights : float (R, K), unnormalised log probabilities (finite in at least one column)
    uniforms : float (R,), U(0, 1) draws (from an explicit ``torch.Generator``)

    Returns
    -------
    z : int64 (R,), the draws
    probs : float (R, K), the normalised probabilities they were drawn from
    """
    probs = torch.softmax(log_weights, dim=1)
    cdf = torch.cumsum(probs, dim=1)
    u = (uniforms * cdf[:, -1])[:, None]
    z = torch.searchsorted(cdf, u, right=True)[:, 0]
    return z.clamp_(max=log_weights.shape[1] - 1), probs
