"""One module per model.  Importing this package registers every model for ``load_model``, in
the order below (the order ``lla train --help`` and ``lla compare`` list them)."""

from .unigram import Unigram  # noqa: I001 - registration order
from .lda import LDA
from .ddlda import DDLDA
from .topic_lla import TopicLLA
from .independent import IndependentLLA
from .word_lla import CharLLA, WordLLA
from .lstm_lm import CharLSTM, WordLSTM
from .autoencoder import Autoencoder

__all__ = ["Autoencoder", "CharLLA", "CharLSTM", "DDLDA", "IndependentLLA", "LDA", "TopicLLA",
           "Unigram", "WordLLA", "WordLSTM"]
