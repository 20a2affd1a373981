"""The bag-of-words autoencoder network (DESIGN §4 baseline): a normalised bag of words →
hidden layer → low-dimensional code → softmax over V.  Training and scoring live in
:mod:`lla.models.autoencoder`.

torch only, no module-level state; dropout masks from an explicit ``torch.Generator``.
"""

import torch
from torch import nn
from torch.nn import functional as F

from .language_model import dropout


class BagOfWordsAutoencoder(nn.Module):
    """Normalised bag of words (B, V) → code (B, code_size) → log p(w | d) (B, V).

    Parameters of the module: ``hidden`` (Linear V → hidden_size), ``code`` (Linear hidden_size →
    code_size), ``output`` (Linear code_size → V).
    """

    def __init__(self, n_types, hidden_size, code_size, *, dropout=0.0):
        super().__init__()
        self.n_types = int(n_types)
        self.dropout = float(dropout)
        self.hidden = nn.Linear(self.n_types, int(hidden_size))
        self.code = nn.Linear(int(hidden_size), int(code_size))
        self.output = nn.Linear(int(code_size), self.n_types)

    @property
    def device(self):
        return self.output.weight.device

    def encode(self, bags, *, generator=None):
        """bags: float (B, V) normalised counts → codes float (B, code_size)."""
        x = dropout(bags, self.dropout, generator, self.training)
        return torch.tanh(self.code(torch.tanh(self.hidden(x))))

    def forward(self, bags, *, generator=None):
        """bags: float (B, V) → log p(w | d): float (B, V)."""
        return F.log_softmax(self.output(self.encode(bags, generator=generator)), dim=-1)

    def n_parameters(self):
        return sum(p.numel() for p in self.parameters())
