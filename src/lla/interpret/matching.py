"""Match two models' topics one to one (DESIGN §5; the quantitative paper Tables 2–3).

Both models must share the vocabulary (φ rows over the same V words).  The similarity of topic
i of model A and topic j of model B is by default

    S_ij = 1 − JSD(φ^A_i ‖ φ^B_j)        (Jensen–Shannon divergence, base 2, so S ∈ [0, 1])

Why Jensen–Shannon rather than cosine: φ rows are probability distributions, and JSD compares
them as such — it is symmetric, bounded, defined when either row has zeros (sparse LLA/LDA
counts), and measures how much of the probability mass the topics share.  Cosine of φ rows is
dominated by the largest few probabilities (on a language-modelling vocabulary "the of a" in
every topic), so every pair looks alike.  ``metric="cosine"`` is available for embeddings or to
compare.

The one-to-one matching maximises the total similarity (Hungarian algorithm,
``scipy.optimize.linear_sum_assignment``); with K_A ≠ K_B, min(K_A, K_B) pairs are formed.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import distance

from .._kernels.jsd import jsd_matrix
from ..errors import ParameterError
from ._checks import float_matrix, labels_for, topic_word

METRICS = ("jensen-shannon", "cosine")


@dataclass(frozen=True)
class TopicMatching:
    """A one-to-one matching of topics of model A to topics of model B.

    Attributes
    ----------
    pairs : int64 array (M, 2), rows (topic of A, topic of B), M = min(K_A, K_B), most
        similar pair first
    similarity : float64 array (M,), S of each pair
    matrix : float64 array (K_A, K_B), all similarities S
    metric : str
    """

    pairs: np.ndarray
    similarity: np.ndarray
    matrix: np.ndarray
    metric: str

    @property
    def mean_similarity(self):
        return float(self.similarity.mean())

    def rows(self, labels_a=None, labels_b=None):
        """The pairs as printable rows ``(topic_a, label_a, topic_b, label_b, similarity)``.

        ``labels_a`` / ``labels_b``: sequences of K_A / K_B topic labels (e.g.
        ``TopWords.short_labels(5)``); ``None`` gives empty strings.
        """
        KA, KB = self.matrix.shape
        labels_a = labels_for(labels_a, KA, "labels_a")
        labels_b = labels_for(labels_b, KB, "labels_b")
        out = []
        for (a, b), s in zip(self.pairs, self.similarity):
            out.append((int(a), "" if labels_a is None else labels_a[a],
                        int(b), "" if labels_b is None else labels_b[b], float(s)))
        return out


def topic_similarity(phi_a, phi_b, metric="jensen-shannon"):
    """Similarity of every topic of A to every topic of B.

    Parameters
    ----------
    phi_a : float array (K_A, V);  phi_b : float array (K_B, V) — φ rows (normalised here) for
        ``"jensen-shannon"``, any rows (e.g. embeddings) for ``"cosine"``
    metric : ``"jensen-shannon"`` (1 − JSD, base 2) or ``"cosine"``

    Returns
    -------
    float64 array (K_A, K_B)
    """
    if metric not in METRICS:
        raise ParameterError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    if metric == "jensen-shannon":
        a, b = topic_word(phi_a, "phi_a"), topic_word(phi_b, "phi_b")
    else:
        a, b = float_matrix(phi_a, "phi_a"), float_matrix(phi_b, "phi_b")
    if a.shape[1] != b.shape[1]:
        raise ParameterError(f"the two models have different vocabularies/dimensions "
                             f"({a.shape[1]} vs {b.shape[1]} columns)")
    if metric == "cosine":
        for name, m in (("phi_a", a), ("phi_b", b)):
            zero = np.flatnonzero(np.linalg.norm(m, axis=1) == 0)
            if zero.size:
                raise ParameterError(f"{name} row {int(zero[0])} is zero: cosine undefined")
        return 1.0 - distance.cdist(a, b, metric="cosine")
    a = a / a.sum(axis=1, keepdims=True)
    b = b / b.sum(axis=1, keepdims=True)
    js = jsd_matrix(*_supports(a), *_supports(b), a.shape[1])  # nats, exact (_kernels.jsd)
    return np.clip(1.0 - js / np.log(2.0), 0.0, 1.0)          # base 2: S ∈ [0, 1]


def _supports(rows):
    """(ptr, idx, val, floor) of :func:`lla._kernels.jsd.jsd_matrix`: every row's minimum is its
    floor, the words above it its support (a smoothed φ row's support = the words of its
    counts)."""
    floor = rows.min(axis=1)
    above = rows > floor[:, None]
    ptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(above.sum(axis=1), out=ptr[1:])
    r, idx = np.nonzero(above)                        # row-major: sorted words within a row
    return ptr, idx.astype(np.int64), rows[r, idx], floor


def match_topics(phi_a, phi_b, metric="jensen-shannon"):
    """One-to-one matching of A's topics to B's maximising the summed similarity.

    Parameters
    ----------
    phi_a : float array (K_A, V);  phi_b : float array (K_B, V); see :func:`topic_similarity`
    metric : ``"jensen-shannon"`` (default) or ``"cosine"``

    Returns
    -------
    :class:`TopicMatching`
    """
    S = topic_similarity(phi_a, phi_b, metric)
    rows, cols = linear_sum_assignment(S, maximize=True)
    sim = S[rows, cols]
    order = np.lexsort((rows, -sim))
    pairs = np.stack([rows[order], cols[order]], axis=1).astype(np.int64)
    return TopicMatching(pairs=pairs, similarity=sim[order], matrix=S, metric=metric)
