import math

from lla.nn.early_stopping import EarlyStopping


def test_counts_evaluations_without_improvement():
    s = EarlyStopping(patience=2, every=3)
    assert s.record(0, 10.0) and not s.exhausted(0)
    assert not s.record(3, 11.0) and not s.exhausted(3)      # 1 evaluation without improvement
    assert s.record(6, 9.0) and s.best_step == 6 and s.best_score == 9.0
    assert not s.record(9, 9.5) and not s.exhausted(9)
    assert not s.record(12, 9.0) and s.exhausted(12)          # ties do not improve


def test_a_non_finite_score_never_improves():
    s = EarlyStopping(patience=1)
    assert not s.record(1, math.nan) and s.best_step is None and not s.exhausted(1)
    assert s.record(2, 5.0) and not s.record(3, math.inf) and s.exhausted(3)
