"""One module per model; importing this package registers every model for ``load_model``."""

from .autoencoder import Autoencoder
from .ddlda import DDLDA
from .lda import LDA
from .lstm_lm import CharLSTM, WordLSTM
from .topic_lla import TopicLLA
from .unigram import Unigram

__all__ = ["Autoencoder", "CharLSTM", "DDLDA", "LDA", "TopicLLA", "Unigram", "WordLSTM"]
