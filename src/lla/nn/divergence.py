"""Stop training at the first non-finite loss or parameter (NaN, ±inf) instead of saving a broken
model that would then score "perplexity nan" with a perfect HR@10: every training loop of lla
(the M-step of the LLA family, the LSTM language models, the autoencoder) checks each minibatch's
loss *before* its optimizer step — so the parameters stay those of the last finite step — and
the parameters after every epoch.
"""

import math

import torch

from ..errors import TrainingDiverged

HINT = "a smaller learning_rate (or stronger gradient clipping) usually helps"


def check_loss(value, what):
    """Raise :class:`~lla.errors.TrainingDiverged` unless the float ``value`` is finite."""
    if not math.isfinite(value):
        raise TrainingDiverged(f"training diverged: the {what} became {value}; {HINT}")
    return value


def check_parameters(module, what):
    """Raise :class:`~lla.errors.TrainingDiverged` if a parameter of ``module`` is not finite."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if not bool(torch.isfinite(p).all()):
                raise TrainingDiverged(f"training diverged: the {what}'s parameter {name} is not "
                                       f"finite; {HINT}")
