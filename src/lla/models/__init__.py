"""One module per model; importing this package registers every model for ``load_model``."""

from .ddlda import DDLDA
from .lda import LDA
from .topic_lla import TopicLLA
from .unigram import Unigram

__all__ = ["DDLDA", "LDA", "TopicLLA", "Unigram"]
