"""Slow pure-Python/numpy twin of :mod:`lla._kernels.jsd`, used only by tests: the
Jensen–Shannon divergence of every row pair over every word of the vocabulary."""

import numpy as np


def jsd_matrix_ref(phi_a, phi_b):
    """JSD in nats (K_A, K_B) of the rows of phi_a (K_A, V) and phi_b (K_B, V) (each row a
    probability distribution)."""
    out = np.empty((phi_a.shape[0], phi_b.shape[0]))
    for i, p in enumerate(phi_a):
        for j, q in enumerate(phi_b):
            m = 0.5 * (p + q)
            total = 0.0
            for pw, qw, mw in zip(p, q, m):
                if pw > 0:
                    total += 0.5 * pw * np.log(pw / mw)
                if qw > 0:
                    total += 0.5 * qw * np.log(qw / mw)
            out[i, j] = total
    return out
