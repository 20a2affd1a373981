import numpy as np
import pytest

from lla.errors import ParameterError
from lla.interpret._plots import figure_png
from lla.interpret.transitions import transition_counts, transition_heatmap, transition_matrix


def test_counts_by_hand_never_cross_documents():
    z = np.array([0, 1, 1, 2, 2, 0, 3])
    lengths = np.array([4, 0, 2, 1])        # [0 1 1 2] [] [2 0] [3]
    n = transition_counts(z, lengths, 4)
    expected = np.zeros((4, 4), int)
    expected[0, 1] = expected[1, 1] = expected[1, 2] = expected[2, 0] = 1
    np.testing.assert_array_equal(n, expected)   # no 2→2 (doc boundary), no 0→3


def test_empty_rows():
    z = np.array([0, 1, 0, 1])
    P, totals = transition_matrix(z, [4], 3)
    np.testing.assert_array_equal(P[0], [0, 1, 0])
    np.testing.assert_array_equal(P[1], [1, 0, 0])
    assert np.all(np.isnan(P[2])) and totals.tolist() == [2, 1, 0]
    U, _ = transition_matrix(z, [4], 3, empty="uniform")
    np.testing.assert_allclose(U[2], 1 / 3)
    with pytest.raises(ParameterError, match="empty"):
        transition_matrix(z, [4], 3, empty="zero")


def _markov(rng, P, lengths):
    K = P.shape[0]
    out = []
    for n in lengths:
        z = [rng.integers(K)]
        for _ in range(n - 1):
            z.append(rng.choice(K, p=P[z[-1]]))
        out.extend(z)
    return np.array(out)


def test_known_markov_chain_is_recovered():
    rng = np.random.default_rng(0)
    K = 4
    P = rng.dirichlet(np.ones(K) * 0.7, size=K)
    lengths = rng.integers(1, 80, size=300)
    z = _markov(rng, P, lengths)
    est, totals = transition_matrix(z, lengths, K)
    se = np.sqrt(P * (1 - P) / totals[:, None])
    assert np.all(np.abs(est - P) < 5 * se + 1e-9)
    assert not np.all(np.abs(est - P.T) < 5 * se + 1e-9)   # power: the transpose fails
    np.testing.assert_allclose(est.sum(axis=1), 1.0)


@pytest.mark.parametrize("args, message", [
    ((np.array([0, 1]), np.array([3]), 2), "sum to"),
    ((np.array([0, 2]), np.array([2]), 2), r"\[0, 2\)"),
    ((np.array([0.0, 1.0]), np.array([2]), 2), "integers"),
    ((np.array([0, 1]), np.array([2]), 0), "n_topics"),
    ((np.array([[0, 1]]), np.array([2]), 2), "1-d"),
])
def test_bad_input_one_line(args, message):
    with pytest.raises(ParameterError, match=message) as info:
        transition_counts(*args)
    assert "\n" not in str(info.value)


def test_heatmap_draws_the_matrix_in_the_given_order():
    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.ones(5), size=5)
    P[3] = np.nan
    order = np.array([4, 2, 0, 3, 1])
    fig = transition_heatmap(P, [f"w{k}" for k in range(5)], order=order, title="T")
    ax = fig.axes[0]
    drawn = ax.images[0].get_array()
    np.testing.assert_allclose(drawn.filled(np.nan), P[np.ix_(order, order)])
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{k} w{k}" for k in order]
    assert figure_png(fig)[:4] == b"\x89PNG"


def test_heatmap_of_many_topics_labels_every_nth_in_order():
    K = 300                                          # > MAX_TICKS = 120: every 3rd is labelled
    rng = np.random.default_rng(2)
    order = rng.permutation(K)
    fig = transition_heatmap(rng.dirichlet(np.ones(K), size=K), [f"w{k}" for k in range(K)],
                             order=order)
    ax = fig.axes[0]
    assert list(ax.get_yticks()) == list(range(0, K, 3))
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{k} w{k}" for k in order[::3]]


@pytest.mark.parametrize("P, kwargs, message", [
    (np.full((2, 3), 1 / 3), {}, "square"),
    (np.array([[0.5, 0.6], [0.5, 0.5]]), {}, "row-stochastic"),
    (np.array([[np.nan, 1.0], [0.5, 0.5]]), {}, "all NaN"),
    (np.eye(2), {"order": [0, 0]}, "permutation"),
    (np.eye(2), {"labels": ["a"]}, "labels"),
])
def test_heatmap_bad_input(P, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        transition_heatmap(P, **kwargs)
