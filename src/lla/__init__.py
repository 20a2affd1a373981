"""lla — Latent LSTM Allocation (Zaheer, Ahmed & Smola, ICML 2017).

Sparse, readable topic models whose topic dynamics are learned by an LSTM.
"""

import logging

from ._version import __version__
from .base import Model, load_model
from .data import Corpus, Vocabulary
from .errors import (InputError, LlaError, NotFittedError, OutputError, ParameterError,
                     TrainingDiverged)
from .models import (LDA, DDLDA, Autoencoder, CharLLA, CharLSTM, IndependentLLA, TopicLLA,
                     Unigram, WordLLA, WordLSTM)

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__", "Corpus", "Vocabulary", "Model", "load_model",
           "Unigram", "LDA", "DDLDA", "TopicLLA", "IndependentLLA", "WordLLA", "CharLLA",
           "WordLSTM", "CharLSTM", "Autoencoder",
           "LlaError", "InputError", "TrainingDiverged", "OutputError", "ParameterError",
           "NotFittedError"]
