import math

import numpy as np
import pytest

from lla.evaluation.ranking import (history_mask, hit_rate, mean_reciprocal_rank, mrr_at_k,
                                    ndcg, rank_of_true, ranking_metrics)


def test_hand_computed_metrics():
    ranks = [1, 2, 10, 11, 3]
    assert hit_rate(ranks, 10) == pytest.approx(4 / 5)
    assert ndcg(ranks, 10) == pytest.approx(
        (1 + 1 / math.log2(3) + 1 / math.log2(11) + 0 + 1 / math.log2(4)) / 5)
    assert ndcg(ranks, 10) == pytest.approx(0.4839987, abs=1e-6)
    assert mrr_at_k(ranks, 10) == pytest.approx((1 + 1 / 2 + 1 / 10 + 0 + 1 / 3) / 5)
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 2 + 1 / 10 + 1 / 11 + 1 / 3) / 5)
    assert ranking_metrics(ranks, 2) == pytest.approx(
        {"hr@2": 0.4, "ndcg@2": (1 + 1 / math.log2(3)) / 5, "mrr@2": 1.5 / 5, "n_targets": 5})
    assert math.isnan(ndcg([], 10)) and math.isnan(hit_rate([], 10))
    with pytest.raises(ValueError, match="1-based"):
        ndcg([0, 1])


def _recbole_1_2_1(pos_index, k):
    """RecBole 1.2.1's Hit, MRR and NDCG ``metric_info`` (recbole/evaluator/metrics.py) for one
    relevant item per user (pos_len = 1), averaged as its ``topk_result`` does (unrounded)."""
    hit = (np.cumsum(pos_index, axis=1) > 0).astype(int)
    idxs = pos_index.argmax(axis=1)
    mrr = np.zeros_like(pos_index, dtype=float)
    for row, idx in enumerate(idxs):
        mrr[row, idx:] = 1 / (idx + 1) if pos_index[row, idx] > 0 else 0
    pos_len = np.ones(len(pos_index), dtype=int)
    idcg_len = np.where(pos_len > pos_index.shape[1], pos_index.shape[1], pos_len)
    iranks = np.zeros_like(pos_index, dtype=float)
    iranks[:, :] = np.arange(1, pos_index.shape[1] + 1)
    idcg = np.cumsum(1.0 / np.log2(iranks + 1), axis=1)
    for row, idx in enumerate(idcg_len):
        idcg[row, idx:] = idcg[row, idx - 1]
    dcg = np.cumsum(np.where(pos_index, 1.0 / np.log2(iranks + 1), 0), axis=1)
    ndcg_ = dcg / idcg
    return {f"hr@{k}": hit.mean(0)[k - 1], f"mrr@{k}": mrr.mean(0)[k - 1],
            f"ndcg@{k}": ndcg_.mean(0)[k - 1]}


def test_agrees_with_recbole_formulas_on_random_scores():
    rng = np.random.default_rng(0)
    B, V, k = 300, 40, 10
    scores = rng.normal(size=(B, V))
    true = rng.integers(0, V, B)
    ranks = rank_of_true(scores, true)
    top = np.argsort(-scores, axis=1)[:, :k]            # continuous scores: no ties
    pos_index = top == true[:, None]
    expected = _recbole_1_2_1(pos_index, k)
    got = ranking_metrics(ranks, k)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12)
    # power: an off-by-one rank changes every metric
    shifted = ranking_metrics(ranks + 1, k)
    assert all(shifted[key] != pytest.approx(value) for key, value in expected.items())


def test_rank_ties_count_against_the_target():
    scores = np.array([[0.5, 0.2, 0.5, 0.1],
                       [0.1, 0.9, 0.9, 0.9]])
    assert rank_of_true(scores, [0, 3]).tolist() == [1, 1]
    assert rank_of_true(scores, [1, 0]).tolist() == [3, 4]


def test_history_mask_excludes_consumed_items():
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5],
                       [0.9, 0.8, 0.7, 0.6, 0.5]])
    mask = history_mask([[0, 1, 1], [4]], 5)
    assert mask.tolist() == [[True, True, False, False, False],
                             [False, False, False, False, True]]
    assert rank_of_true(scores, [3, 3]).tolist() == [4, 4]
    assert rank_of_true(scores, [3, 3], exclude=mask).tolist() == [2, 4]
    # a target that repeats a history item is masked too: after every remaining item (a miss)
    assert rank_of_true(scores, [1, 4], exclude=mask).tolist() == [4, 5]
    with pytest.raises(ValueError, match="exclude has shape"):
        rank_of_true(scores, [1, 1], exclude=mask[:, :3])
