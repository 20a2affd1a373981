"""The paper's "independent learner" (Table 4; DESIGN §4): LDA first, then an LSTM trained on
LDA's fixed topic assignments, never updated by stochastic EM.  Scored like topic-LLA, by the
particle filter.  Joint training (:class:`lla.TopicLLA`) must beat it.

It is exactly iteration 0 of :class:`lla.TopicLLA` — the same LDA start, the same LSTM fit on
its assignments (``init_lstm_epochs``) — so for the same seed and hyper-parameters the two
share their starting point and differ only by the SEM iterations.
"""

from ..errors import ParameterError
from .topic_lla import TopicLLA


#: what the independent learner fixes: no SEM iterations, and φ stays LDA's (no SE-steps)
_FIXED = {"n_iter": 0, "n_average": 0, "online_blocks": 1}


class IndependentLLA(TopicLLA):
    """LDA's assignments → LSTM over topics (no SEM).  Takes every parameter of
    :class:`lla.TopicLLA` except ``n_iter`` and ``n_average`` (always 0: φ is LDA's) and
    ``online_blocks``."""

    model_name = "independent"
    _parameters = {k: v for k, v in TopicLLA._parameters.items() if k not in _FIXED}

    def __init__(self, n_topics=50, **kwargs):
        for name, value in _FIXED.items():
            if kwargs.pop(name, value) not in (value, None):
                raise ParameterError(f"the independent learner runs no SE-steps: leave {name} "
                                     f"out (use lla.TopicLLA for joint training)")
        super().__init__(n_topics, **_FIXED, **kwargs)

    @classmethod
    def _param_names(cls):
        return [name for name in TopicLLA._param_names() if name not in _FIXED]

    @classmethod
    def _defaults(cls):
        return {k: v for k, v in TopicLLA._defaults().items() if k not in _FIXED}

    def fit_summary(self):
        return "LDA start and LSTM, no SEM iterations"
