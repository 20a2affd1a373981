"""Early stopping on a validation score (lower is better): the best score so far, the step
(epoch or SEM iteration) that reached it, and when patience has run out.  Used by the LLA
family (:mod:`lla.models._lla_base`) and the neural baselines (:mod:`lla.nn.language_model`).
"""

import math
from dataclasses import dataclass


@dataclass
class EarlyStopping:
    """patience : evaluations without improvement before stopping
    every : steps between evaluations (so that ``step − best_step`` counts evaluations)
    best_score, best_step : the lowest score recorded and its step (None before the first)
    """

    patience: int
    every: int = 1
    best_score: float = None
    best_step: int = None

    def record(self, step, score):
        """Record the score of ``step``; True if it is the best so far (a non-finite score never
        is)."""
        if not math.isfinite(score):
            return False
        if self.best_score is None or score < self.best_score:
            self.best_score, self.best_step = float(score), int(step)
            return True
        return False

    def exhausted(self, step):
        """True when ``patience`` evaluations up to ``step`` brought no improvement."""
        return self.best_step is not None and \
            (int(step) - self.best_step) // int(self.every) >= int(self.patience)
