import numpy as np
import pytest
from matplotlib.figure import Figure

from lla.errors import ParameterError
from lla.interpret._plots import figure_png
from lla.interpret.hierarchy import (dendrogram_figure, topic_distances, topic_hierarchy,
                                     topic_map, topic_map_figure)


def _planted(rng, E=24):
    """16 topics: 2 super-groups × 2 groups × 4 topics, in shuffled ids."""
    top = rng.normal(size=(2, E)) * 4
    mid = rng.normal(size=(2, 2, E)) * 1.5
    rows, truth_super, truth_group = [], [], []
    for s in range(2):
        for g in range(2):
            for _ in range(4):
                rows.append(top[s] + mid[s, g] + rng.normal(size=E) * 0.2)
                truth_super.append(s)
                truth_group.append(2 * s + g)
    perm = rng.permutation(16)
    return (np.array(rows)[perm], np.array(truth_super)[perm], np.array(truth_group)[perm])


def _same_partition(a, b):
    return all((a[i] == a[j]) == (b[i] == b[j]) for i in range(a.size) for j in range(a.size))


def test_planted_hierarchy_is_recovered():
    emb, sup, group = _planted(np.random.default_rng(0))
    tree = topic_hierarchy(emb)
    assert tree.metric == "cosine" and tree.method == "average"
    assert tree.linkage.shape == (15, 4)
    assert sorted(tree.order.tolist()) == list(range(16))
    assert _same_partition(tree.clusters(2), sup)
    assert _same_partition(tree.clusters(4), group)
    # leaf order keeps every planted group contiguous
    in_order = group[tree.order]
    assert sum(in_order[1:] != in_order[:-1]) == 3
    # clusters are numbered in leaf order
    assert tree.clusters(4)[tree.order[0]] == 0


def test_scrambled_hierarchy_fails_the_same_check():
    # power: the partition check rejects a wrong grouping
    emb, _, group = _planted(np.random.default_rng(0))
    tree = topic_hierarchy(np.random.default_rng(5).normal(size=emb.shape))
    assert not _same_partition(tree.clusters(4), group)


def test_distances_cosine_is_norm_free():
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(5, 8))
    scaled = emb * rng.uniform(0.1, 10, size=(5, 1))
    np.testing.assert_allclose(topic_distances(emb), topic_distances(scaled), atol=1e-12)
    D = topic_distances(emb, "euclidean")
    np.testing.assert_allclose(D[1, 3], np.linalg.norm(emb[1] - emb[3]))
    assert np.all(np.diag(D) == 0) and np.allclose(D, D.T)


def test_deterministic_and_sign_fixed_map():
    emb, _, _ = _planted(np.random.default_rng(2))
    t1, t2 = topic_hierarchy(emb), topic_hierarchy(emb.copy())
    np.testing.assert_array_equal(t1.order, t2.order)
    c1, e1 = topic_map(t1.distances)
    c2, _ = topic_map(topic_hierarchy(-emb).distances)      # cosine: same distances
    np.testing.assert_allclose(c1, c2, atol=1e-9)
    assert c1.shape == (16, 2) and 0 < e1[1] <= e1[0] <= 1
    for axis in range(2):
        anchor = np.argmax(np.abs(c1[:, axis]))
        assert c1[anchor, axis] > 0


def test_mds_recovers_a_planar_configuration():
    rng = np.random.default_rng(3)
    points = rng.normal(size=(12, 2)) * [3.0, 1.0]
    D = np.linalg.norm(points[:, None] - points[None], axis=2)
    coords, explained = topic_map(D)
    D2 = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.testing.assert_allclose(D2, D, atol=1e-8)
    assert explained.sum() == pytest.approx(1.0)


def test_small_k():
    one = topic_hierarchy(np.ones((1, 3)))
    assert one.order.tolist() == [0] and one.clusters(1).tolist() == [0]
    two = topic_hierarchy(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert sorted(two.order.tolist()) == [0, 1]
    assert topic_map(two.distances)[0].shape == (2, 2)


@pytest.mark.parametrize("call, message", [
    (lambda: topic_hierarchy(np.array([[1.0, 0.0], [0.0, 0.0]])), "row 1"),
    (lambda: topic_hierarchy(np.eye(3), method="ward"), "euclidean"),
    (lambda: topic_hierarchy(np.eye(3), method="upgma"), "method"),
    (lambda: topic_hierarchy(np.eye(3), metric="nonsense"), "metric"),
    (lambda: topic_hierarchy(np.array([[np.nan, 1.0]])), "NaN"),
    (lambda: topic_hierarchy(np.eye(3)).clusters(5), "n_clusters"),
    (lambda: topic_map(np.array([[0.0, 1.0], [2.0, 0.0]])), "symmetric"),
    (lambda: dendrogram_figure(topic_hierarchy(np.eye(3)), ["a", "b"]), "labels"),
    (lambda: topic_map_figure(np.zeros((3, 3))), "2 columns"),
])
def test_bad_input_one_line(call, message):
    with pytest.raises(ParameterError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_dendrogram_labels_every_leaf_and_grows_with_k():
    rng = np.random.default_rng(4)
    small = topic_hierarchy(rng.normal(size=(10, 8)))
    big = topic_hierarchy(rng.normal(size=(100, 8)))
    labels = [f"word{k} · other{k} · a-very-long-word-that-will-be-cut-somewhere-{k}"
              for k in range(100)]
    fig = dendrogram_figure(big, labels, title="hierarchy")
    assert isinstance(fig, Figure)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(ticks) == 100
    assert ticks[0].startswith(f"{big.order[0]}  word{big.order[0]} ")    # top leaf = order[0]
    assert all(len(t) <= 48 + 5 for t in ticks)
    assert fig.get_figheight() > 2 * dendrogram_figure(small).get_figheight()
    assert figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_topic_map_figure_renders():
    rng = np.random.default_rng(5)
    emb = rng.normal(size=(20, 6))
    tree = topic_hierarchy(emb)
    coords, explained = topic_map(tree.distances)
    fig = topic_map_figure(coords, [f"t{k}" for k in range(20)], sizes=rng.random(20),
                           clusters=tree.clusters(4), explained=explained, title="map")
    assert "%" in fig.axes[0].get_xlabel()
    assert len(fig.axes[0].texts) == 20
    assert figure_png(fig)[:4] == b"\x89PNG"


def test_labels_with_glyphs_the_font_lacks_draw_without_warnings(recwarn):
    """CJK artist names (Last.fm) are drawn as boxes by DejaVu Sans; matplotlib's per-character
    warning is not repeated to the user for every figure."""
    import numpy as np

    from lla.interpret import figure_png

    emb = np.random.default_rng(0).normal(size=(4, 3))
    fig = dendrogram_figure(topic_hierarchy(emb), [f"浜崎あゆみ {k}" for k in range(4)])
    assert figure_png(fig)[:4] == b"\x89PNG"
    assert not [w for w in recwarn if "missing from font" in str(w.message)]
