"""A hierarchy and a 2-D map of the topics from a topic embedding (DESIGN §5; paper Figs. 6–7).

The embedding is one row per topic, (K, E): topic-LLA's K×E input table, the rows of W_p for
word/char-LLA, φ itself (K, V) for LDA.

Choices (defaults, both can be changed):

* **cosine distance** 1 − cos(e_i, e_j).  The rows of a learnt embedding table differ in norm
  for reasons unrelated to meaning (how often the topic was seen, weight decay), and the LSTM
  reads them through linear maps where direction carries what a topic "does"; cosine ignores
  the norm.  For probability rows (φ) cosine is dominated by the high-probability words, which
  is what a reader of the top words sees too.
* **average linkage** (UPGMA): the distance between two clusters is the mean pairwise distance.
  It is valid for any dissimilarity (Ward, centroid and median linkage assume Euclidean
  distances, which cosine is not), it does not chain as single linkage does, and it is less
  sensitive to one outlying topic than complete linkage.
* the leaves are put in **optimal leaf order** (Bar-Joseph et al. 2001,
  ``scipy.cluster.hierarchy.optimal_leaf_ordering``): among the 2^(K−1) orders the tree allows,
  the one with the least summed distance between neighbours, so that a heatmap ordered by it
  shows blocks.
* the **topic map** is classical (Torgerson) multidimensional scaling of the same distance
  matrix: the top-2 eigenvectors of −½ J D² J scaled by √λ (negative eigenvalues, which a
  non-Euclidean distance can produce, are clipped).  Each axis's sign is fixed so that the
  topic with the largest absolute coordinate on it is positive (ties: the smaller topic id), so
  the same embedding gives the same picture every time.

Everything is deterministic: no random initialisation anywhere.
"""

from dataclasses import dataclass

import numpy as np
from scipy.cluster import hierarchy as sch
from scipy.spatial import distance

from ..errors import ParameterError
from ._checks import float_matrix, labels_for

DEFAULT_METRIC = "cosine"
DEFAULT_METHOD = "average"
_METHODS = ("single", "complete", "average", "weighted", "centroid", "median", "ward")
_EUCLIDEAN_ONLY = ("centroid", "median", "ward")


@dataclass(frozen=True)
class TopicHierarchy:
    """Agglomerative clustering of K topics.

    Attributes
    ----------
    linkage : float64 array (K − 1, 4), scipy's linkage matrix Z
    order : int64 array (K,), topic ids in (optimal) leaf order, left to right
    distances : float64 array (K, K), the pairwise distance matrix D
    metric, method : str, as passed to scipy
    """

    linkage: np.ndarray
    order: np.ndarray
    distances: np.ndarray
    metric: str
    method: str

    def clusters(self, n_clusters):
        """int64 array (K,): a flat cluster id in 0..n_clusters−1 per topic, by cutting the tree
        (``scipy.cluster.hierarchy.fcluster(..., criterion="maxclust")``), numbered in leaf
        order."""
        K = self.order.size
        if not 1 <= n_clusters <= K:
            raise ParameterError(f"n_clusters must lie in [1, {K}], got {n_clusters}")
        if K == 1:
            return np.zeros(1, dtype=np.int64)
        raw = sch.fcluster(self.linkage, n_clusters, criterion="maxclust")
        renumber = {}
        for k in self.order:
            renumber.setdefault(raw[k], len(renumber))
        return np.array([renumber[c] for c in raw], dtype=np.int64)


def topic_distances(embedding, metric=DEFAULT_METRIC):
    """Pairwise distances of the topic embedding rows.

    Parameters
    ----------
    embedding : float array (K, E)
    metric : any metric name ``scipy.spatial.distance.pdist`` accepts (default ``"cosine"``)

    Returns
    -------
    float64 array (K, K), symmetric with a zero diagonal.
    """
    emb = float_matrix(embedding, "embedding")
    if metric in ("cosine", "correlation"):
        centred = emb - emb.mean(axis=1, keepdims=True) if metric == "correlation" else emb
        zero = np.flatnonzero(np.linalg.norm(centred, axis=1) == 0)
        if zero.size:
            raise ParameterError(f"embedding row {int(zero[0])} is constant/zero: its {metric} "
                                 f"distance is undefined")
    try:
        condensed = distance.pdist(emb, metric=metric) if emb.shape[0] > 1 else np.zeros(0)
    except (ValueError, TypeError) as e:
        raise ParameterError(f"metric {metric!r}: {e}") from None
    D = distance.squareform(np.clip(condensed, 0.0, None), checks=False)
    return D if D.size else np.zeros((1, 1))


def topic_hierarchy(embedding, *, metric=DEFAULT_METRIC, method=DEFAULT_METHOD):
    """Agglomerative clustering of the topic embedding (see the module docstring).

    Parameters
    ----------
    embedding : float array (K, E), one row per topic, K ≥ 1
    metric : str, a ``pdist`` metric (default cosine)
    method : str, a ``scipy.cluster.hierarchy.linkage`` method (default average)

    Returns
    -------
    :class:`TopicHierarchy`
    """
    if method not in _METHODS:
        raise ParameterError(f"method must be one of {', '.join(_METHODS)}, got {method!r}")
    if method in _EUCLIDEAN_ONLY and metric != "euclidean":
        raise ParameterError(f"{method} linkage needs metric='euclidean', got {metric!r}")
    D = topic_distances(embedding, metric)
    K = D.shape[0]
    if K == 1:
        return TopicHierarchy(np.zeros((0, 4)), np.zeros(1, np.int64), D, metric, method)
    condensed = distance.squareform(D, checks=False)
    Z = sch.linkage(condensed, method=method)
    if K > 2:
        Z = sch.optimal_leaf_ordering(Z, condensed)
    order = sch.leaves_list(Z).astype(np.int64)
    return TopicHierarchy(Z, order, D, metric, method)


def topic_map(distances, n_components=2):
    """Classical MDS of a topic distance matrix: deterministic, sign-fixed coordinates.

    Parameters
    ----------
    distances : float array (K, K), e.g. :attr:`TopicHierarchy.distances`
    n_components : int, output dimensions (default 2)

    Returns
    -------
    coords : float64 array (K, n_components)
    explained : float64 array (n_components,), each axis's share of the positive eigenvalues
    """
    D = float_matrix(distances, "distances", nonnegative=True)
    K = D.shape[0]
    if D.shape != (K, K) or not np.allclose(D, D.T):
        raise ParameterError(f"distances must be a symmetric (K, K) matrix, got shape {D.shape}")
    J = np.eye(K) - 1.0 / K
    B = -0.5 * J @ (D ** 2) @ J
    eigval, eigvec = np.linalg.eigh((B + B.T) / 2)
    top = np.argsort(eigval)[::-1][:n_components]
    lam = np.clip(eigval[top], 0.0, None)
    coords = eigvec[:, top] * np.sqrt(lam)[None, :]
    if coords.shape[1] < n_components:
        coords = np.pad(coords, ((0, 0), (0, n_components - coords.shape[1])))
        lam = np.pad(lam, (0, n_components - lam.size))
    for c in range(n_components):
        col = coords[:, c]
        anchor = int(np.argmax(np.abs(np.round(col, 12))))
        if col[anchor] < 0:
            coords[:, c] = -col
    positive = np.clip(eigval, 0.0, None).sum()
    explained = lam / positive if positive > 0 else np.zeros(n_components)
    return coords, explained


def dendrogram_figure(hierarchy, labels=None, *, title=None, max_label=48):
    """The dendrogram, drawn left to right with one labelled leaf per topic.

    Parameters
    ----------
    hierarchy : :class:`TopicHierarchy`
    labels : sequence of K strings (e.g. ``TopWords.short_labels(4)``); each leaf reads
        "k  label" (the topic id first, so ids stay visible); ``None`` = ids only
    title : str, optional
    max_label : int, labels are cut to this many characters

    Returns
    -------
    matplotlib Figure (height grows with K, readable up to K = 100 and beyond).
    """
    from ._plots import new_figure, tight_layout

    K = hierarchy.order.size
    labels = labels_for(labels, K, "labels")
    leaf = [_leaf_label(k, None if labels is None else labels[k], max_label) for k in range(K)]
    height = max(3.0, 0.17 * K + 1.2)
    fig, ax = new_figure(9.0, height)
    if K == 1:
        ax.text(0.5, 0.5, leaf[0], ha="center", va="center")
        ax.set_axis_off()
    else:
        sch.dendrogram(hierarchy.linkage, orientation="left", labels=leaf, ax=ax,
                       color_threshold=0.7 * hierarchy.linkage[:, 2].max(),
                       above_threshold_color="#888888", leaf_font_size=7.5 if K > 40 else 9)
        ax.invert_yaxis()  # leaf order top to bottom = hierarchy.order
        ax.set_xlabel(f"{hierarchy.metric} distance ({hierarchy.method} linkage)")
        ax.spines[["top", "right", "left"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    tight_layout(fig)
    return fig


def topic_map_figure(coords, labels=None, *, sizes=None, clusters=None, explained=None,
                     title=None, max_label=28):
    """Scatter plot of the 2-D topic map.

    Parameters
    ----------
    coords : float array (K, 2), from :func:`topic_map`
    labels : sequence of K strings, short topic labels drawn next to each point with its id
        (for K > 30 only the ids are drawn: more labels overlap and none can be read)
    sizes : float array (K,), e.g. token shares; the marker area grows with it
    clusters : int array (K,), e.g. ``TopicHierarchy.clusters(8)``, colours the points
    explained : float array (2,), shown in the axis labels
    title : str, optional

    Returns
    -------
    matplotlib Figure
    """
    from ._plots import new_figure, tight_layout

    xy = float_matrix(coords, "coords")
    K = xy.shape[0]
    if xy.shape[1] != 2:
        raise ParameterError(f"coords must have 2 columns, got {xy.shape[1]}")
    labels = labels_for(labels, K, "labels")
    area = np.full(K, 36.0)
    if sizes is not None:
        s = np.asarray(sizes, dtype=np.float64)
        if s.shape != (K,) or not np.all(np.isfinite(s)) or s.min() < 0:
            raise ParameterError(f"sizes must be {K} non-negative numbers")
        area = 20.0 + 600.0 * (s / s.max() if s.max() > 0 else s)
    colour = None
    if clusters is not None:
        colour = np.asarray(clusters)
        if colour.shape != (K,):
            raise ParameterError(f"clusters must have {K} entries")
    fig, ax = new_figure(8.0, 6.5)
    ax.scatter(xy[:, 0], xy[:, 1], s=area, c=colour if colour is not None else "#3b6ea8",
               cmap="tab10" if colour is not None else None, alpha=0.65, edgecolors="white",
               linewidths=0.6)
    font = 6.5 if K > 50 else 8
    for k in range(K):
        text = _leaf_label(k, None if labels is None or K > 30 else labels[k], max_label)
        ax.annotate(text, xy[k], xytext=(3, 3), textcoords="offset points", fontsize=font,
                    color="#222222")
    if explained is not None:
        ex = np.asarray(explained, dtype=np.float64)
        ax.set_xlabel(f"MDS axis 1 ({100 * ex[0]:.0f} %)")
        ax.set_ylabel(f"MDS axis 2 ({100 * ex[1]:.0f} %)")
    else:
        ax.set_xlabel("MDS axis 1")
        ax.set_ylabel("MDS axis 2")
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    tight_layout(fig)
    return fig


def _leaf_label(k, label, max_label):
    if label is None:
        return str(k)
    if len(label) > max_label:
        label = label[:max_label - 1] + "…"
    return f"{k}  {label}"
