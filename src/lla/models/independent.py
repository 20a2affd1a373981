"""The paper's "independent learner" (Table 4; DESIGN §4): LDA first, then an LSTM trained on
LDA's fixed topic assignments, never updated by stochastic EM.  Scored like topic-LLA, by the
particle filter.  Joint training (:class:`lla.TopicLLA`) must beat it.

It is exactly iteration 0 of :class:`lla.TopicLLA` — the same LDA start, the same LSTM fit on
its assignments (``init_lstm_epochs``) — so for the same seed and hyper-parameters the two
share their starting point and differ only by the SEM iterations.
"""

from ..errors import ParameterError
from .topic_lla import TopicLLA


class IndependentLLA(TopicLLA):
    """LDA's assignments → LSTM over topics (no SEM).  Takes every parameter of
    :class:`lla.TopicLLA` except ``n_iter`` (always 0)."""

    model_name = "independent"
    _parameters = {k: v for k, v in TopicLLA._parameters.items() if k != "n_iter"}

    def __init__(self, n_topics=50, **kwargs):
        if kwargs.pop("n_iter", 0) not in (0, None):
            raise ParameterError("the independent learner runs no SEM iterations: leave n_iter "
                                 "out (use lla.TopicLLA for joint training)")
        super().__init__(n_topics, n_iter=0, **kwargs)

    @classmethod
    def _param_names(cls):
        return [name for name in TopicLLA._param_names() if name != "n_iter"]

    @classmethod
    def _defaults(cls):
        return {k: v for k, v in TopicLLA._defaults().items() if k != "n_iter"}

    def fit_summary(self):
        return "LDA start and LSTM, no SEM iterations"
