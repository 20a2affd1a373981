"""Declared hyper-parameters (DESIGN §6): one table per model class says what every constructor
argument may hold, and how the command line exposes it.

Modelled on scikit-learn's ``_parameter_constraints``: a model class lists
``_parameters = {name: Param(...)}`` next to its ``__init__``, whose signature stays the one
source of every default.  From the table come

* validation — :func:`check` (one message format: ``n_topics must be an integer >= 1, got 0``),
  used by ``fit`` and by :func:`lla.load_model` for parameters read from ``model.json``;
* the options of ``lla train`` and ``lla compare`` — :attr:`Param.flag` and
  :attr:`Param.compare_flag`, with help texts that list each model's default
  (:mod:`lla.cli.model_options`);
* what a resumed run may change — :attr:`Param.resumable`.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ParameterError

#: kinds of values a parameter can hold
KINDS = ("int", "float", "bool", "str", "seed", "path", "names", "device")


@dataclass(frozen=True)
class Param:
    """What one hyper-parameter may hold.

    kind : one of :data:`KINDS` — ``int`` / ``float`` (bounded by ``low`` / ``high``;
        ``low_open``: strictly above ``low``, ``high_open``: strictly below ``high``), ``bool``,
        ``str`` (one of ``choices``), ``seed`` (a non-negative int or a ``SeedSequence``),
        ``path`` (a file or directory name), ``names`` (a ``{type: name}`` dict or a file name),
        ``device`` (a torch device string such as ``cpu``, ``cuda:1``)
    none : ``None`` is allowed (its meaning goes in ``help``)
    help : one line for ``--help``
    flag : the ``lla train`` option that sets it (e.g. ``--topics``); None: Python only
    compare_flag : the ``lla compare`` option that sets it (several parameters of different
        models may share one, e.g. ``--lda-iterations``)
    run_setting : a setting of the machine or the display (seed, threads, device, progress):
        ``lla train`` applies its flag to the models that declare it and ignores it for the
        others, instead of refusing it
    resumable : may differ between a checkpoint and the run that resumes it
    metavar : the option's placeholder in ``--help``
    """

    kind: str
    low: float = None
    high: float = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = None
    none: bool = False
    help: str = ""
    flag: str = None
    compare_flag: str = None
    run_setting: bool = False
    resumable: bool = False
    metavar: str = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")

    def describe(self):
        """What the value must be, as in "must be <this>"."""
        if self.kind in ("int", "float"):
            what = "an integer" if self.kind == "int" else "a number"
            if self.low is not None and self.high is not None:
                what += (f" in {'(' if self.low_open else '['}{_num(self.low)}, "
                         f"{_num(self.high)}{')' if self.high_open else ']'}")
            elif self.low is not None:
                what += f" {'>' if self.low_open else '>='} {_num(self.low)}"
            elif self.high is not None:
                what += f" {'<' if self.high_open else '<='} {_num(self.high)}"
        elif self.kind == "bool":
            what = "true or false"
        elif self.kind == "str":
            what = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.kind == "seed":
            what = "a non-negative integer or a SeedSequence"
        elif self.kind == "path":
            what = "a path"
        elif self.kind == "names":
            what = "a {type: name} dict or a file name"
        else:
            what = "a torch device such as 'cpu' or 'cuda:0'"
        return what + (" or None" if self.none else "")

    def accepts(self, value):
        """Whether ``value`` is allowed."""
        if value is None:
            return self.none
        if self.kind == "int":
            return _is_int(value) and self._in_range(value)
        if self.kind == "float":
            return (isinstance(value, (int, float, np.integer, np.floating))
                    and not isinstance(value, bool) and math.isfinite(float(value))
                    and self._in_range(float(value)))
        if self.kind == "bool":
            return isinstance(value, (bool, np.bool_))
        if self.kind == "str":
            return isinstance(value, str) and value in self.choices
        if self.kind == "seed":
            return isinstance(value, np.random.SeedSequence) or (_is_int(value) and value >= 0)
        if self.kind == "path":
            return isinstance(value, (str, Path)) and str(value) != ""
        if self.kind == "names":
            return isinstance(value, (dict, str, Path))
        return isinstance(value, str) and _is_device(value)

    def _in_range(self, v):
        if self.low is not None and (v <= self.low if self.low_open else v < self.low):
            return False
        if self.high is not None and (v >= self.high if self.high_open else v > self.high):
            return False
        return True

    def to_json(self, value):
        """``value`` as saved in ``model.json``: a path becomes a string, a SeedSequence None
        (its entropy is saved with the fitted state)."""
        if isinstance(value, Path):
            return str(value)
        if self.kind == "seed" and isinstance(value, np.random.SeedSequence):
            return None
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return float(value)
        return value


def flag_dest(flag):
    """The attribute name argparse gives an option (``--lda-iterations`` → ``lda_iterations``),
    also the key of :attr:`lla.compare.CompareSettings.options`."""
    return flag.lstrip("-").replace("-", "_")


def check(name, value, param):
    """Raise :class:`~lla.errors.ParameterError` (naming ``name``) unless ``param`` accepts
    ``value``."""
    if not param.accepts(value):
        raise ParameterError(f"must be {param.describe()}, got {value!r}", parameter=name)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_device(text):
    import torch
    try:
        torch.device(text)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def _num(x):
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# -- declarations shared by several models (one flag, one meaning) --------------------------------
SEED = Param("seed", none=True, flag="--seed", compare_flag="--seed", run_setting=True,
             metavar="S", help="random seed (default: fresh entropy; lla compare: 0)")
THREADS = Param("int", low=1, none=True, flag="--threads", run_setting=True, resumable=True,
                metavar="T", help="threads of torch and numba (default: each library's own, "
                                  "i.e. all cores unless OMP_NUM_THREADS / NUMBA_NUM_THREADS "
                                  "say otherwise); results depend on it")
DEVICE = Param("device", flag="--device", compare_flag="--device", run_setting=True,
               resumable=True, metavar="DEVICE", help="torch device: cpu, cuda, cuda:1, ...")
PROGRESS = Param("bool", none=True, resumable=True,
                 help="progress bars (None: only on a terminal)")
TOPICS = Param("int", low=1, flag="--topics", metavar="K", help="number of topics K")
ALPHA = Param("float", low=0, low_open=True, none=True, flag="--alpha", metavar="A",
              help="document-topic prior α (LLA: of its LDA start; ddlda: weight of the base "
                   "measure); None: 0.1")
BETA = Param("float", low=0, low_open=True, flag="--beta", metavar="B",
             help="topic-word prior β")
PARTICLES = Param("int", low=1, flag="--particles", compare_flag="--particles", resumable=True,
                  metavar="S", help="particles of particle-filter scoring (topic-lla, "
                                    "independent, ddlda)")
EMBEDDING = Param("int", low=1, flag="--embedding", compare_flag="--embedding", metavar="E",
                  help="input embedding size E")
HIDDEN = Param("int", low=1, flag="--hidden", compare_flag="--hidden", metavar="H",
               help="LSTM state size H (autoencoder: hidden layer)")
BATCH = Param("int", low=1, flag="--batch-size", metavar="B", help="documents per minibatch")
BPTT = Param("int", low=1, flag="--bptt", metavar="T",
             help="truncated-BPTT window (steps; the state is carried across windows)")
LEARNING_RATE = Param("float", low=0, low_open=True, flag="--learning-rate", metavar="LR",
                      help="Adam(W) learning rate")
DROPOUT = Param("float", low=0, high=1, high_open=True, flag="--dropout", metavar="P",
                help="dropout probability (training only)")
PATIENCE = Param("int", low=1, flag="--patience", resumable=True, metavar="N",
                 help="validation evaluations without improvement before early stopping")
EPOCHS = Param("int", low=1, flag="--epochs", metavar="N",
               help="(maximum) epochs of word-lstm, char-lstm, autoencoder")
