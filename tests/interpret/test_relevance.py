import numpy as np
import pytest

from lla.errors import ParameterError
from lla.interpret.relevance import (DEFAULT_LAMBDA, marginal_word_probability, relevance,
                                     top_words)


def test_default_lambda_is_sievert_shirley():
    assert DEFAULT_LAMBDA == 0.6


def test_relevance_formula_by_hand():
    phi = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    p_w = np.array([0.3, 0.2, 0.5])
    r = relevance(phi, p_w, lam=0.6)
    expected = 0.6 * np.log(phi) + 0.4 * np.log(phi / p_w)
    np.testing.assert_allclose(r, expected, rtol=1e-12)
    np.testing.assert_allclose(relevance(phi, None, lam=1.0), np.log(phi))


def test_probability_ranking_at_lambda_one():
    rng = np.random.default_rng(0)
    phi = rng.dirichlet(np.ones(50), size=4)
    top = top_words(phi, 7, lam=1.0)
    np.testing.assert_array_equal(top.ids, np.argsort(-phi, axis=1, kind="stable")[:, :7])
    np.testing.assert_allclose(top.scores, np.log(np.take_along_axis(phi, top.ids, 1)))


def test_relevance_demotes_a_word_every_topic_uses():
    # word 0 ("the") is the most probable word of every topic; by λ = 0.6 relevance the words
    # specific to each topic come first, by probability "the" does.
    V = 6
    phi = np.array([[0.5, 0.3, 0.05, 0.05, 0.05, 0.05],
                    [0.5, 0.05, 0.3, 0.05, 0.05, 0.05],
                    [0.5, 0.05, 0.05, 0.3, 0.05, 0.05]])
    p_w = marginal_word_probability(phi)
    names = ["the", "goal", "vote", "gene", "x", "y"]
    assert top_words(phi, 1, lam=1.0, names=names).labels == [["the"], ["the"], ["the"]]
    top = top_words(phi, 2, p_w=p_w, names=names)
    assert [row[0] for row in top.labels] == ["goal", "vote", "gene"]
    assert top.label(0, 2) == "goal · the"
    assert top.short_labels(1) == ["goal", "vote", "gene"]
    assert top.lam == 0.6 and top.ids.shape == (3, 2) and V == phi.shape[1]


def test_lambda_zero_ranks_by_lift():
    phi = np.array([[0.6, 0.3, 0.1], [0.2, 0.1, 0.7]])
    p_w = np.array([0.7, 0.1, 0.2])
    top = top_words(phi, 3, p_w=p_w, lam=0.0)
    np.testing.assert_array_equal(top.ids, np.argsort(-(phi / p_w), axis=1))


def test_ties_broken_by_smaller_id_and_deterministic():
    phi = np.array([[0.25, 0.25, 0.25, 0.25]])
    assert top_words(phi, 2, lam=1.0).ids.tolist() == [[0, 1]]
    phi = np.array([[0.1, 0.3, 0.3, 0.3]])
    assert top_words(phi, 2, lam=1.0).ids.tolist() == [[1, 2]]
    assert top_words(phi, 4, lam=1.0).ids.tolist() == [[1, 2, 3, 0]]


def test_unnormalised_rows_and_zero_entries():
    phi = np.array([[2.0, 0.0, 6.0], [1.0, 1.0, 0.0]])  # counts n_kw are fine
    p_w = marginal_word_probability(phi, topic_weights=[8, 2])
    np.testing.assert_allclose(p_w, 0.8 * np.array([0.25, 0, 0.75]) + 0.2 * np.array([.5, .5, 0]))
    r = relevance(phi, p_w)
    assert np.isneginf(r[0, 1]) and np.isneginf(r[1, 2]) and np.all(np.isfinite(r[0, [0, 2]]))
    assert top_words(phi, 2, p_w=p_w).ids[0].tolist() == [2, 0]


def test_exclude_words():
    phi = np.array([[0.5, 0.3, 0.2], [0.6, 0.1, 0.3]])
    top = top_words(phi, 2, lam=1, exclude=[0])
    assert top.ids.tolist() == [[1, 2], [2, 1]]
    sparse = np.array([[0.0, 0.0, 0.0, 1.0]])           # ties at −inf never bring 0 back
    assert top_words(sparse, 3, lam=1, exclude=[0]).ids.tolist() == [[3, 1, 2]]
    with pytest.raises(ParameterError, match="exclude"):
        top_words(phi, 2, lam=1, exclude=[3])
    with pytest.raises(ParameterError, match="left after exclude"):
        top_words(phi, 2, lam=1, exclude=[0, 1])


def test_zero_marginal_for_unused_word_is_allowed():
    phi = np.array([[0.5, 0.5, 0.0]])
    r = relevance(phi, np.array([0.5, 0.5, 0.0]))
    assert np.isneginf(r[0, 2])


@pytest.mark.parametrize("call, message", [
    (lambda phi: top_words(phi, 2, lam=1.5), "lam"),
    (lambda phi: top_words(phi, 2, lam="a"), "lam"),
    (lambda phi: top_words(phi, 2), "p_w"),
    (lambda phi: top_words(phi, 9, lam=1), "exceeds"),
    (lambda phi: top_words(phi, 0, lam=1), "n must"),
    (lambda phi: top_words(phi, 2, lam=1, names=["a"]), "names"),
    (lambda phi: top_words(phi, 2, p_w=np.array([0.5, 0.5, 0.0])), "p_w is 0"),
    (lambda phi: top_words(phi, 2, p_w=np.ones(4)), "shape"),
    (lambda phi: top_words(-phi, 2, lam=1), "negative"),
    (lambda phi: top_words(np.zeros((2, 3)), 2, lam=1), "no mass"),
    (lambda phi: top_words(phi[0], 2, lam=1), "2-d"),
    (lambda phi: marginal_word_probability(phi, [1.0]), "topic_weights"),
])
def test_bad_input_one_line(call, message):
    phi = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    with pytest.raises(ParameterError, match=message) as info:
        call(phi)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("lam", [1.0, 0.6, 0.0])
def test_head_of_a_longer_ranking_is_the_shorter_ranking(lam):
    rng = np.random.default_rng(7)
    phi = rng.dirichlet(np.full(60, 0.2), size=8)
    phi[:, 5] = phi[:, 6]                               # ties: broken by the smaller id in both
    phi /= phi.sum(axis=1, keepdims=True)
    p_w = phi.mean(axis=0)
    names = [f"w{i}" for i in range(60)]
    long = top_words(phi, 25, p_w=p_w, lam=lam, names=names)
    for n in (1, 4, 10, 25):
        short = top_words(phi, n, p_w=p_w, lam=lam, names=names)
        head = long.head(n)
        np.testing.assert_array_equal(head.ids, short.ids)
        np.testing.assert_array_equal(head.scores, short.scores)
        assert head.labels == short.labels and head.lam == short.lam
    with pytest.raises(ParameterError, match="exceeds"):
        long.head(26)
