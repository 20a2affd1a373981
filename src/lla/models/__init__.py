"""One module per model; importing this package registers every model for ``load_model``."""

from .lda import LDA
from .topic_lla import TopicLLA
from .ddlda import DDLDA
from .unigram import Unigram
from .lstm_lm import CharLSTM, WordLSTM
from .autoencoder import Autoencoder
from .word_lla import CharLLA, WordLLA
from .independent import IndependentLLA

__all__ = ["DDLDA", "Unigram", "LDA", "TopicLLA"]
__all__ += ["WordLSTM", "CharLSTM", "Autoencoder"]
__all__ += ["WordLLA", "CharLLA"]
__all__ += ["IndependentLLA"]
