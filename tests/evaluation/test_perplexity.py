import math

import numpy as np
import pytest

from lla import Corpus, InputError, Unigram, load_model
from lla.evaluation import evaluate, perplexity


def test_perplexity_definition():
    assert perplexity(np.log([0.5, 0.25])) == pytest.approx(math.sqrt(8))
    assert perplexity(np.full(10, -math.log(7))) == pytest.approx(7)
    with pytest.raises(InputError, match="no held-out tokens"):
        perplexity([])


def test_unigram_agrees_with_few_line_computation(tmp_path):
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 20, n) for n in rng.integers(2, 50, 30)]
    c = Corpus.from_documents(docs, 20)
    counts = np.zeros(20)
    held = []
    for d in docs:
        k = int(0.6 * len(d))
        np.add.at(counts, d[:k], 1)
        held.extend(d[k:])
    p = (counts + 1) / (counts.sum() + 20)
    expected = math.exp(-np.mean(np.log(p[held])))
    m = Unigram().fit(c)
    assert m.perplexity(c) == pytest.approx(expected)
    result = evaluate(m, c)
    assert result["heldout_tokens"] == len(held) and result["perplexity"] == pytest.approx(expected)
    assert result["parameters"] == {"dense": 20, "nonzero": 0, "total": 20}
    m.save(tmp_path / "m")
    assert load_model(tmp_path / "m").perplexity(c) == pytest.approx(expected)


def test_ranking_metrics():
    from lla.evaluation import hit_rate, mean_reciprocal_rank, rank_of_true
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.2, 0.2, 0.6]])
    ranks = rank_of_true(scores, [2, 0, 2])
    assert ranks.tolist() == [2, 2, 1]  # tie with another type does not push the rank down
    assert hit_rate(ranks, 1) == pytest.approx(1 / 3)
    assert mean_reciprocal_rank(ranks) == pytest.approx((0.5 + 0.5 + 1) / 3)


def test_unigram_ranks_against_brute_force():
    rng = np.random.default_rng(5)
    docs = [rng.integers(0, 12, n) for n in rng.integers(3, 30, 20)]
    c = Corpus.from_documents(docs, 12)
    m = Unigram().fit(c)
    from lla.evaluation import rank_of_true
    suffix = np.concatenate([c.suffix(d) for d in range(len(c))])
    brute = rank_of_true(np.broadcast_to(m.word_prob_, (len(suffix), 12)), suffix)
    assert np.array_equal(m.heldout_ranks(c), brute)
    result = evaluate(m, c, ranking=True)
    assert 0 <= result["hr@10"] <= 1 and result["mrr"] > 0


def test_leave_one_out_metrics_come_from_the_test_and_validation_targets():
    """Under the loo protocol the ranking metrics are those of the test targets (each user's
    last event) and, prefixed, of the validation targets, read off the same ranks."""
    import lla
    from lla.evaluation import evaluate, ranking_metrics
    from lla.evaluation.perplexity import suffix_index

    docs = [np.array([1, 2, 3, 4, 1]), np.array([2, 3, 1]), np.array([4, 4]),
            np.array([3, 1, 2, 2, 4, 3])]
    corpus = lla.Corpus.from_documents(docs, 5, protocol="loo",
                                       meta={"options": {"format": "events"}})
    model = lla.Unigram().fit(corpus)
    ranks = model.heldout_ranks(corpus)
    test = suffix_index(corpus, "test")
    assert [int(corpus.suffix_arrays()[0][i]) for i in test] == [1, 1, 3]   # the last events
    result = evaluate(model, corpus)
    assert result["protocol"] == "loo" and result["n_targets"] == 3
    assert result["hr@10"] == ranking_metrics(ranks[test])["hr@10"]
    assert result["validation_n_targets"] == 2 and "mrr" not in result
    both = evaluate(model, corpus, exclude_history="both")
    assert both["hr@10"] == result["hr@10"] and "masked_mrr@10" in both
