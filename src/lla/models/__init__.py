"""One module per model; importing this package registers every model for ``load_model``."""

from .autoencoder import Autoencoder
from .ddlda import DDLDA
from .independent import IndependentLLA
from .lda import LDA
from .lstm_lm import CharLSTM, WordLSTM
from .topic_lla import TopicLLA
from .unigram import Unigram
from .word_lla import CharLLA, WordLLA

__all__ = ["Autoencoder", "CharLLA", "CharLSTM", "DDLDA", "IndependentLLA", "LDA", "TopicLLA",
           "Unigram", "WordLLA", "WordLSTM"]
