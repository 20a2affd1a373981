"""lla — Latent LSTM Allocation (Zaheer, Ahmed & Smola, ICML 2017).

Sparse, readable topic models whose topic dynamics are learned by an LSTM.
"""

import logging

from ._version import __version__
from .base import Model, load_model
from .data import Corpus, Vocabulary
from .errors import InputError, LlaError, NotFittedError, ParameterError
from .models import LDA, TopicLLA, Unigram, DDLDA
from .models import Autoencoder, CharLSTM, WordLSTM
from .models import CharLLA, WordLLA
from .models import IndependentLLA

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["DDLDA", "__version__", "Corpus", "Vocabulary", "Model", "load_model", "Unigram", "LDA", "TopicLLA",
           "LlaError", "InputError", "ParameterError", "NotFittedError"]
__all__ += ["WordLSTM", "CharLSTM", "Autoencoder"]
__all__ += ["WordLLA", "CharLLA"]
__all__ += ["IndependentLLA"]
