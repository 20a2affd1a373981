"""Topic dynamics: the next-topic transition matrix and its heatmap (DESIGN §5).

The empirical transition matrix of topic assignments z (e.g. a model's sampled z_t on the
training prefixes)::

    P(z_{t+1} = j | z_t = i) = n_ij / Σ_j' n_ij'      n_ij = #{t : z_t = i, z_{t+1} = j}

counting only consecutive positions of the same document (a transition never crosses a document
boundary).  A topic that is never followed by another token (never assigned, or only at the
last position of documents) has an empty row; by default that row is NaN (drawn grey in the
heatmap) rather than an invented distribution, ``empty="uniform"`` fills it with 1/K instead.

:func:`transition_heatmap` draws any (K, K) row-stochastic matrix, so the same figure serves
the LSTM's own one-step response for topic-LLA.
"""

import numpy as np

from ..errors import ParameterError
from ._checks import integer_array, labels_for, positive_int


def transition_counts(z, lengths, n_topics):
    """n_ij, the number of within-document transitions from topic i to topic j.

    Parameters
    ----------
    z : int array (N,), topic assignments z_t of all documents concatenated
    lengths : int array (D,), the documents' lengths, Σ lengths = N
    n_topics : int, K (every z_t must lie in [0, K))

    Returns
    -------
    int64 array (K, K)
    """
    K = positive_int(n_topics, "n_topics")
    z = integer_array(z, "z")
    lengths = integer_array(lengths, "lengths")
    if np.any(lengths < 0) or int(lengths.sum()) != z.size:
        raise ParameterError(f"lengths must be non-negative and sum to len(z) = {z.size}, "
                             f"got sum {int(lengths.sum())}")
    if z.size and (z.min() < 0 or z.max() >= K):
        raise ParameterError(f"z must lie in [0, {K}), found {int(z.min())}..{int(z.max())}")
    if z.size < 2:
        return np.zeros((K, K), dtype=np.int64)
    z = np.asarray(z, dtype=np.int64)
    keep = np.ones(z.size - 1, dtype=bool)            # transition t -> t+1
    ends = np.cumsum(lengths)[:-1]                     # first position of documents 1..D-1
    ends = ends[(ends > 0) & (ends < z.size)]
    keep[ends - 1] = False
    pairs = z[:-1][keep] * K + z[1:][keep]
    return np.bincount(pairs, minlength=K * K).reshape(K, K)


def transition_matrix(z, lengths, n_topics, *, empty="nan"):
    """P(z_{t+1} = j | z_t = i) from assignments (see the module docstring).

    Parameters
    ----------
    z, lengths, n_topics : as :func:`transition_counts`
    empty : ``"nan"`` (default) or ``"uniform"``, what an empty row becomes

    Returns
    -------
    P : float64 array (K, K), rows sum to 1 (empty rows: NaN or 1/K)
    counts : int64 array (K,), the number of transitions out of each topic (the row totals)
    """
    if empty not in ("nan", "uniform"):
        raise ParameterError(f"empty must be 'nan' or 'uniform', got {empty!r}")
    n = transition_counts(z, lengths, n_topics)
    totals = n.sum(axis=1)
    P = np.full(n.shape, np.nan if empty == "nan" else 1.0 / n.shape[0])
    rows = totals > 0
    P[rows] = n[rows] / totals[rows, None]
    return P, totals


#: the most topics a transition heatmap labels on each axis (every ⌈K / MAX_TICKS⌉-th beyond)
MAX_TICKS = 120


def transition_heatmap(P, labels=None, *, order=None, title=None, max_label=30,
                       colorbar_label="P(next topic | topic)"):
    """Heatmap of a (K, K) row-stochastic matrix with rows and columns in a given order.

    Parameters
    ----------
    P : float array (K, K), rows sum to 1; NaN rows (no data) are drawn grey
    labels : sequence of K short topic labels (e.g. ``TopWords.short_labels(2)``); the tick
        labels read "k label" (cut to ``max_label`` characters, 18 when K > 40); for K >
        ``MAX_TICKS`` every ⌈K / MAX_TICKS⌉-th row and column is labelled
    order : int array (K,), a permutation of the topics (e.g. ``TopicHierarchy.order``);
        ``None`` = 0..K−1
    title : str, optional

    Returns
    -------
    matplotlib Figure.  The colour scale is a square-root scale (``PowerNorm(0.5)``) from 0 to
    the largest entry, so that small off-diagonal probabilities stay visible next to a strong
    diagonal.
    """
    from matplotlib.colors import PowerNorm

    from ._plots import new_figure, tight_layout

    M = np.asarray(P, dtype=np.float64)
    K = M.shape[0] if M.ndim == 2 else -1
    if M.ndim != 2 or M.shape != (K, K) or K == 0:
        raise ParameterError(f"P must be a square (K, K) matrix, got shape {M.shape}")
    finite = np.all(np.isfinite(M), axis=1)
    if np.any(~finite & ~np.all(np.isnan(M), axis=1)):
        raise ParameterError("P rows must be all finite or all NaN (no data)")
    if np.any(M[finite] < 0) or not np.allclose(M[finite].sum(axis=1), 1.0, atol=1e-6):
        raise ParameterError("P must be row-stochastic (non-negative rows summing to 1)")
    labels = labels_for(labels, K, "labels")
    if order is None:
        order = np.arange(K)
    else:
        order = integer_array(order, "order")
        if order.shape != (K,) or not np.array_equal(np.sort(order), np.arange(K)):
            raise ParameterError(f"order must be a permutation of 0..{K - 1}")
    Mo = M[np.ix_(order, order)]
    size = min(4.0 + 0.1 * K, 10.5)
    if K > 40:
        max_label = min(max_label, 18)
    fig, ax = new_figure(size + 2.0, size)
    vmax = np.nanmax(Mo) if np.any(np.isfinite(Mo)) else 1.0
    cmap = _colormap()
    image = ax.imshow(np.ma.masked_invalid(Mo), cmap=cmap, norm=PowerNorm(0.5, 0.0, vmax),
                      interpolation="nearest", aspect="equal")
    # at most MAX_TICKS labelled rows/columns (every ⌈K / MAX_TICKS⌉-th): beyond that the labels
    # of a 10.5-inch figure overlap, and drawing thousands of them is most of a report's time
    every = -(-K // MAX_TICKS)
    shown = np.arange(0, K, every)
    ticks = [_tick(int(order[i]), None if labels is None else labels[order[i]], max_label)
             for i in shown]
    font = 5.5 if len(shown) > 60 else (7 if len(shown) > 25 else 9)
    ax.set_xticks(shown, ticks, rotation=90, fontsize=font)
    ax.set_yticks(shown, ticks, fontsize=font)
    ax.set_xlabel("next topic  z(t+1)")
    ax.set_ylabel("topic  z(t)")
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label(colorbar_label)
    if title:
        ax.set_title(title, loc="left")
    tight_layout(fig)
    return fig


def _colormap():
    import matplotlib

    return matplotlib.colormaps["viridis"].with_extremes(bad="#d9d9d9")


def _tick(k, label, max_label):
    if label is None:
        return str(k)
    if len(label) > max_label:
        label = label[:max_label - 1] + "…"
    return f"{k} {label}"
