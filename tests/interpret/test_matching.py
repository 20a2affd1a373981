import numpy as np
import pytest
from scipy.spatial import distance

from lla.errors import ParameterError
from lla.interpret.matching import match_topics, topic_similarity


def test_permuted_copy_is_matched_back_exactly():
    rng = np.random.default_rng(0)
    phi = rng.dirichlet(np.full(300, 0.1), size=30)
    perm = rng.permutation(30)
    m = match_topics(phi, phi[perm])
    # topic a of A is row a of phi = row inverse[a] of phi[perm]
    inverse = np.argsort(perm)
    assert all(inverse[a] == b for a, b in m.pairs)
    np.testing.assert_allclose(m.similarity, 1.0)
    assert m.pairs.shape == (30, 2) and m.metric == "jensen-shannon"
    assert m.mean_similarity == pytest.approx(1.0)


def test_noisy_permuted_copy_and_rectangular():
    rng = np.random.default_rng(1)
    phi = rng.dirichlet(np.full(200, 0.05), size=12)
    perm = rng.permutation(12)
    noisy = phi[perm] * rng.uniform(0.5, 1.5, size=phi.shape)
    m = match_topics(phi[:8], noisy)                   # 8 of A against 12 of B
    inverse = np.argsort(perm)
    assert len(m.pairs) == 8 and all(inverse[a] == b for a, b in m.pairs)
    assert np.all(np.diff(m.similarity) <= 0)          # most similar first
    for metric in ("cosine",):
        m2 = match_topics(phi, noisy, metric=metric)
        assert all(inverse[a] == b for a, b in m2.pairs)


def test_similarity_values():
    a = np.array([[1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]])
    b = np.array([[0.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]])  # unnormalised row is fine
    S = topic_similarity(a, b)
    assert S[0, 0] == pytest.approx(0.0) and S[1, 1] == pytest.approx(1.0)
    # JSD([1,0], [.5,.5]) with mixture [.75,.25], base 2
    jsd = 0.5 * (np.log2(1 / 0.75) + 0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25))
    assert S[0, 1] == pytest.approx(1 - jsd)
    assert S[0, 1] == pytest.approx(1 - distance.jensenshannon(a[0], b[1], base=2) ** 2)
    C = topic_similarity(a, b, metric="cosine")
    assert C[1, 1] == pytest.approx(1.0) and C[0, 0] == pytest.approx(0.0)


def test_hungarian_beats_greedy():
    # cosine similarities ≈ [[0.60, 0.55], [0.55, 0.05]]: greedy takes the largest entry (0, 0)
    # and is left with (1, 1), total 0.65; the optimum (0, 1) + (1, 0) is 1.10
    a = np.array([[0.6, 0.55, 0.58], [0.55, 0.05, 0.83]])
    b = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    m = match_topics(a, b, metric="cosine")
    assert np.argmax(m.matrix) == 0
    assert sorted(map(tuple, m.pairs.tolist())) == [(0, 1), (1, 0)]
    assert m.similarity.sum() > 1.0


def test_rows_for_printing():
    phi = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    m = match_topics(phi, phi[::-1])
    rows = m.rows(["a0", "a1"], ["b0", "b1"])
    assert {(r[0], r[1], r[2], r[3]) for r in rows} == {(0, "a0", 1, "b1"), (1, "a1", 0, "b0")}
    assert all(r[4] == pytest.approx(1.0) for r in rows)
    assert m.rows()[0][1] == ""
    with pytest.raises(ParameterError, match="labels_a"):
        m.rows(["x"], None)


@pytest.mark.parametrize("a, b, kwargs, message", [
    (np.ones((2, 3)), np.ones((2, 4)), {}, "vocabularies"),
    (np.ones((2, 3)), np.ones((2, 3)), {"metric": "kl"}, "metric"),
    (np.ones((2, 3)), np.zeros((2, 3)), {}, "no mass"),
    (np.ones((2, 3)), np.zeros((2, 3)), {"metric": "cosine"}, "zero"),
    (-np.ones((2, 3)), np.ones((2, 3)), {}, "negative"),
])
def test_bad_input_one_line(a, b, kwargs, message):
    with pytest.raises(ParameterError, match=message) as info:
        match_topics(a, b, **kwargs)
    assert "\n" not in str(info.value)
