"""The M-step's sufficient statistics (DESIGN §2): topic counts n_wk from assignments z, and φ
from counts — the one place where φ_{k,w} = (n_wk + β) / (n_k + Vβ) is computed (LDA, ddLDA and
every LLA variant use it; LDA passes counts averaged over its last sweeps).

Layouts: counts are word-major, n_wk int32 (V, K) (the rows a sampler gathers for a token);
φ is topic-major, ``topic_word`` float64 (K, V) (scikit-learn's ``components_`` layout, what
``topic_word_`` holds); the samplers read log φ word-major, ``log_phi_wk`` float32 (V, K).
:class:`FixedPhi` is what an SE-step receives: the counts, and each of those forms made on
first use (the dense samplers' log φ, the MH sampler's alias tables).
"""

from functools import cached_property

import numpy as np
import torch

from .._kernels.se_mh import build_proposal


def topic_counts(words, z, n_types, n_topics):
    """n_wk: int32 (V, K), how often word w carries topic k.  words, z: int (N,)."""
    flat = np.asarray(words, dtype=np.int64) * n_topics + np.asarray(z, dtype=np.int64)
    return np.bincount(flat, minlength=n_types * n_topics).reshape(n_types, n_topics) \
        .astype(np.int32)


def topic_word(n_wk, beta):
    """φ: float64 (K, V), φ_{k,w} = (n_wk + β) / (n_k + Vβ), from counts n_wk (V, K) (integer,
    or float when averaged over sweeps)."""
    n_wk = np.asarray(n_wk, dtype=np.float64)
    V = n_wk.shape[0]
    return np.ascontiguousarray(((n_wk + beta) / (n_wk.sum(axis=0) + V * beta)).T)


def log_phi_wk(n_wk, beta, device, chunk=1024):
    """log φ, word-major: a float32 (V, K) tensor on ``device`` (the rows the samplers gather).

    Computed ``chunk`` words at a time (the same float64 operations as :func:`topic_word`, so
    the same values): 4·V·K bytes plus a chunk, where φ in float64 first would take 16·V·K
    and more (V = 20k, K = 1000: 80 MB instead of ~0.6 GB at the peak)."""
    n_wk = np.asarray(n_wk)
    V = n_wk.shape[0]
    denominator = n_wk.sum(axis=0, dtype=np.float64) + V * beta
    out = np.empty(n_wk.shape, dtype=np.float32)
    for a in range(0, V, chunk):
        out[a:a + chunk] = np.log((n_wk[a:a + chunk].astype(np.float64) + beta) / denominator)
    return torch.as_tensor(out, device=device)


def log_phi_wk_of(topic_word_, device):
    """log φ word-major (float32 (V, K) tensor on ``device``) of a given φ (K, V)."""
    return torch.as_tensor(np.log(np.asarray(topic_word_).T), dtype=torch.float32,
                           device=device).contiguous()


class FixedPhi:
    """φ held fixed during one SE-step (DESIGN §2), from counts n_wk int32 (V, K) and β.

    The forms a sampler needs are made on first use and kept for the step:

    * ``log_phi_wk`` — float32 (V, K) tensor on ``device`` (forward, smoother, beam, fused);
      made from float64 φ (K, V): 12·V·K bytes while it is made (240 MB at V = 20k, K = 1000);
    * ``proposal(head)`` — the MH sampler's word-proposal tables with head size J = ``head``
      (:func:`lla._kernels.se_mh.build_proposal`: O(nnz(n_wk) + K) memory, no V×K float array).
    """

    def __init__(self, n_wk, beta, device="cpu"):
        self.n_wk = n_wk
        self.beta = float(beta)
        self.device = torch.device(device)
        self._proposals = {}

    @property
    def n_topics(self):
        return self.n_wk.shape[1]

    @cached_property
    def log_phi_wk(self):
        return log_phi_wk(self.n_wk, self.beta, self.device)

    def proposal(self, head):
        if head not in self._proposals:
            self._proposals[head] = build_proposal(self.n_wk, self.beta, head)
        return self._proposals[head]
