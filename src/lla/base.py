"""The interface every model shares (DESIGN §6), and safe save/load (DESIGN §8).

* ``__init__`` only stores hyper-parameters (read back by :meth:`Model.get_params`); each class
  declares them in ``_parameters`` (:mod:`lla.params`), checked by :meth:`Model._validate`.
* ``fit(corpus, *, resume=False) -> self`` trains on the training prefixes of ``corpus``.
* ``heldout_log_prob(corpus, *, n_particles=None) -> float64 array``: log p(w_t | w_<t)
  (natural log) for every held-out (suffix) token, documents in order, tokens in order: the one
  quantity that :func:`lla.evaluation.perplexity` turns into a perplexity.  ``n_particles`` is
  the S of models scored by a particle filter (None: the model's ``n_particles``); models
  scored exactly accept and ignore it.
* ``heldout_ranks(corpus, *, n_particles=None) -> int64 array`` (optional): the rank of every
  held-out token under the same predictive, for HR@10 / MRR (:mod:`lla.evaluation.ranking`).
* ``log_likelihood(corpus)``: the sum of those log-probabilities (a float, nats).
* ``perplexity(corpus)``: DESIGN §3, computed by :func:`lla.evaluation.perplexity`.
* ``top_words(k, n)`` for models with topics (the others say they have none).
* ``fit_summary()``: one line on what training did, which ``lla train`` prints.
* fitted state ends in ``_``; ``n_parameters()``; ``save(dir)`` / :func:`load_model`.

A saved model is a directory with ``model.json`` (model name, format version, hyper-parameters,
small metadata) and ``arrays.safetensors`` (all arrays); loading never executes code.
"""

import inspect
import json
from pathlib import Path

import numpy as np

from ._atomic import atomic_directory
from ._metadata import check_known_keys, object_field, read_json_document
from ._version import __version__
from .errors import InputError, NotFittedError, ParameterError
from .evaluation.perplexity import perplexity
from .params import check

MODEL_FORMAT_VERSION = 1
#: arrays that Model.save adds to every model's own (the vocabulary, item names)
SHARED_ARRAYS = ("vocab_utf8", "item_names_json")
_REGISTRY = {}


class Model:
    """Base class.  Subclasses set ``model_name`` and implement ``fit``, ``heldout_log_prob``,
    ``n_parameters``, ``_get_state`` and ``_set_state``."""

    model_name = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.model_name is not None:
            _REGISTRY[cls.model_name] = cls

    #: {name: lla.params.Param}: what every constructor argument may hold (DESIGN §6)
    _parameters = {}
    #: {old name: new name} of renamed parameters, so that files saved before load
    _renamed_parameters = {}
    #: the value of a parameter that files saved before it existed had, whatever its default
    #: is now (a file without it is loaded with this value)
    _parameters_before_they_existed = {}

    # -- hyper-parameters ---------------------------------------------------------------------
    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    @classmethod
    def _defaults(cls):
        """{name: default} from the constructor's signature — the one source of every default."""
        sig = inspect.signature(cls.__init__)
        return {p.name: p.default for p in sig.parameters.values()
                if p.name in cls._param_names() and p.default is not inspect.Parameter.empty}

    def _store_arguments(self, arguments):
        """Keep every constructor argument as an attribute of the same name (the scikit-learn
        convention ``get_params`` relies on).  Call first thing in ``__init__`` with
        ``locals()``."""
        for name, value in arguments.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def get_params(self):
        """The constructor arguments as stored on the instance, in their JSON form (a path as a
        string, a SeedSequence as None: its entropy is saved with the fitted state)."""
        return {name: self._parameters[name].to_json(getattr(self, name))
                if name in self._parameters else getattr(self, name)
                for name in self._param_names()}

    def _validate(self):
        """Check every declared hyper-parameter (:func:`lla.params.check`); a model adds checks
        that involve several parameters by overriding this and calling it first."""
        for name in self._param_names():
            check(name, getattr(self, name), self._parameters[name])

    @classmethod
    def _from_saved_params(cls, params, source=None):
        """A model built from the ``params`` of a saved ``model.json``: renamed parameters are
        mapped to their new names, unknown ones refused, every value checked as the constructor's
        caller would be (:meth:`_validate`)."""
        if not isinstance(params, dict):
            raise InputError(f"'params' must be a JSON object, got {type(params).__name__}",
                             source)
        params = {cls._renamed_parameters.get(k, k): v for k, v in params.items()}
        check_known_keys(params, cls._param_names(), f"{cls.model_name} parameter", source)
        for name, value in cls._parameters_before_they_existed.items():
            if name in cls._param_names():
                params.setdefault(name, value)
        model = cls(**params)
        try:
            model._validate()
        except ParameterError as e:
            raise InputError(f"invalid saved parameter: {e}", source) from None
        return model

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- fitted state -------------------------------------------------------------------------
    def _fitted_attribute(self):
        return "n_wk_"

    def _check_fitted(self):
        if getattr(self, self._fitted_attribute(), None) is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit() first")

    def _check_vocabulary(self, corpus):
        """One-line error unless ``corpus`` has the vocabulary the model was trained with (the
        types themselves, not only their number: a model scores only the corpus it was trained
        for).  Models saved without their vocabulary (lla 0.1's word-LSTM, autoencoder and
        unigram) are checked by size only (``_trained_vocabulary_size``)."""
        self._check_fitted()
        mine = getattr(self, "vocab_types_", None)
        theirs = corpus.vocab.types
        trained = getattr(self, "corpus_path_", None) or "its training corpus"
        size = len(mine) if mine is not None else self._trained_vocabulary_size()
        if len(theirs) != size:
            raise InputError(f"the corpus has {len(theirs)} word types but the model was trained "
                             f"with V = {size} (on {trained})", getattr(corpus, "path", None))
        if mine is not None and list(mine) != list(theirs):
            i = next(i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b)
            raise InputError(f"the corpus's vocabulary is not the model's: type {i} is "
                             f"{theirs[i]!r} here but {mine[i]!r} in the model (trained on "
                             f"{trained})", getattr(corpus, "path", None))

    def _trained_vocabulary_size(self):  # pragma: no cover - models that save their vocabulary
        raise NotImplementedError

    # -- evaluation ---------------------------------------------------------------------------
    def heldout_log_prob(self, corpus, *, n_particles=None):  # pragma: no cover - interface
        raise NotImplementedError

    def heldout_ranks(self, corpus, *, n_particles=None, exclude_history=False, **options):
        """Rank (1 = first) of every held-out token among all V types under the model's
        predictive p(· | w_<t) (ties count against the true token), documents in order: HR@k and
        MRR for user data (:mod:`lla.evaluation.ranking`).  ``exclude_history``: items already
        in the document before t leave the ranking (rating data).  The same predictive as
        :meth:`predict_next` (:mod:`lla.prediction`).  ``options`` go to the model's
        ``_predictive`` (e.g. LDA's ``fold_in``, word-LLA's ``max_rows``)."""
        from .prediction import heldout_ranks
        return heldout_ranks(self, corpus, n_particles=n_particles,
                             exclude_history=exclude_history, **options)

    def predict_next(self, histories, *, n_topics=3, n_items=10, n_words=5, n_particles=None,
                     exclude_history=False):
        """What comes next after each history, and why.

        histories : a sequence of histories, each a sequence of items (vocabulary type strings,
            or integer ids); unknown items are read as ``<unk>`` and listed in the result; an
            empty history predicts from the start state
        n_topics, n_items : how many next topics and items to return (most probable first)
        n_words : top words shown for every topic mentioned
        n_particles : S of the particle-filter models (None: the model's own)
        exclude_history : never propose an item the history already has (rating data)

        Returns a list of :class:`lla.prediction.Prediction` (next items and their
        probabilities, next topics, and the explanation: the topic path the model read the
        history as, or LDA's θ_d).  It is the predictive that :meth:`heldout_ranks` ranks with.
        """
        from .prediction import predict_next
        return predict_next(self, histories, n_topics=n_topics, n_items=n_items,
                            n_words=n_words, n_particles=n_particles,
                            exclude_history=exclude_history)

    def _predictive(self, corpus, consume, *, n_particles=None,
                    explain=False):  # pragma: no cover - interface
        """Call ``consume(out, scores, is_log, topic_probs)`` for chunks of ``corpus``'s held-out
        positions; with ``explain``, also return per document how the model read its prefix (a
        topic per token, or θ_d; None for models without topics) from the same pass (see
        :mod:`lla.prediction`)."""
        raise NotImplementedError(f"{type(self).__name__} does not predict next items")

    def _has_topics(self):
        return False

    def _display_names(self):
        """V labels for people: the item's name where the training corpus had one (e.g. a film
        title), else its type string."""
        names = getattr(self, "item_names_", None)
        types = self.vocab_types_
        if names is None:
            return list(types)
        return [n if n else t for n, t in zip(names, types)]

    def _vocabulary(self):
        """The training vocabulary as a :class:`lla.data.Vocabulary`."""
        from .data import Vocabulary
        self._check_fitted()
        if getattr(self, "vocab_types_", None) is None:
            raise InputError(f"this {self.model_name} model was saved without its vocabulary "
                             f"(lla < 0.2): it can score a corpus but not read raw histories")
        if getattr(self, "_vocab_cache", None) is None:
            self._vocab_cache = Vocabulary(list(self.vocab_types_))
        return self._vocab_cache

    def log_likelihood(self, corpus, **kwargs):
        """Sum over held-out tokens of log p(w_t | w_<t), in nats."""
        return float(np.sum(self.heldout_log_prob(corpus, **kwargs)))

    def perplexity(self, corpus, **kwargs):
        """Held-out perplexity of DESIGN §3 on ``corpus``'s suffixes."""
        return perplexity(self.heldout_log_prob(corpus, **kwargs))

    def topic_ids(self):
        """The ids of the model's topics, ``range(K)`` — for models with topics."""
        raise ParameterError(f"a {self.model_name} model has no topics")

    def top_words(self, k, n=10):
        """The ``n`` most probable word types of topic ``k`` — for models with topics."""
        raise ParameterError(f"a {self.model_name} model has no topics")

    def fit_summary(self):
        """One line on what training did (sweeps, iterations, epochs, tokens/s), printed by
        ``lla train``; empty when there is nothing to say."""
        return ""

    def convergence(self):
        """[(training seconds so far, validation perplexity)] recorded during training — the
        curve of the paper's Fig. 8 (empty unless the model was trained with a validation
        split: LLA with ``early_stopping`` or a ``validation`` corpus, LDA with ``validation``,
        the LSTM LMs and the autoencoder with ``validation=True``)."""
        return []

    def convergence_curve(self, corpus):
        """The paper's Fig. 8 for this model's settings on ``corpus``: [(training seconds,
        validation perplexity)] after every sweep / iteration / epoch that is scored, of a model
        trained on a validation split of the training prefixes
        (:meth:`lla.Corpus.prefix_corpus`: the first 60 % of each prefix for training, the rest
        for validation; the held-out suffixes are never seen).  ``lla compare --convergence``
        draws it.  Models with nothing to record (no iterations) return [].  Models whose own
        ``fit`` records such a curve (LDA, the LLA variants, with a ``validation`` corpus)
        train a fresh copy with the same hyper-parameters for it (:meth:`_curve_by_refit`);
        the LSTM LMs and the autoencoder return the validation stage of their own fit."""
        return []

    def _curve_by_refit(self, corpus):
        """:meth:`convergence_curve` by training a fresh copy (the same constructor arguments;
        this model is not changed) on ``corpus.prefix_corpus()`` validated on its suffixes."""
        twin = type(self)(**{name: getattr(self, name) for name in self._param_names()})
        twin.show_progress = False
        inner = corpus.prefix_corpus()
        twin.fit(inner, validation=inner)
        return twin.convergence()

    def interruption(self):
        """None, or how an interrupted training (Ctrl-C) ended, e.g. "interrupted after 3 of 10
        SEM iterations": the model is the last finished step, not what was asked for.
        ``lla evaluate`` says so; ``lla train`` saves it and exits with status 130."""
        return None

    def _refuse_resume(self, resume):
        """For models that keep no checkpoints: ``fit(resume=True)`` is an error, not a no-op."""
        if resume:
            raise ParameterError(f"is not possible: a {self.model_name} model keeps no "
                                 f"checkpoints", parameter="resume")

    def n_parameters(self):  # pragma: no cover - interface
        """dict with ``dense`` (parameters stored densely: LSTM, embedding and softmax weights),
        ``nonzero`` (non-zeros of count matrices such as n_wk) and ``total`` (their sum, the
        model size of the paper's Fig. 4); models may add more keys."""
        raise NotImplementedError

    def _seed_sequence(self):
        """``random_state`` (None, a non-negative int or a SeedSequence) as a SeedSequence."""
        rs = self.random_state
        check("random_state", rs, self._parameters["random_state"])
        if isinstance(rs, np.random.SeedSequence):
            return rs
        return np.random.SeedSequence(None if rs is None else int(rs))

    def _record_corpus(self, corpus):
        """Remember the training corpus: where it lives (``corpus_path_``, so that ``lla evaluate
        MODEL`` can score it without being told) and its vocabulary (``vocab_types_``, checked by
        every scoring call); both are saved with the model."""
        path = getattr(corpus, "path", None)
        self.corpus_path_ = None if path is None else str(Path(path).resolve())
        self.vocab_types_ = list(corpus.vocab.types)
        self.item_names_ = getattr(corpus, "item_names", None)

    # -- persistence --------------------------------------------------------------------------
    def _get_state(self):  # pragma: no cover - interface
        """Return (metadata: JSON-able dict, arrays: dict name -> numpy array)."""
        raise NotImplementedError

    def _set_state(self, metadata, arrays):  # pragma: no cover - interface
        raise NotImplementedError

    def save(self, path, *, force=False):
        """Write the fitted model to directory ``path`` atomically."""
        from safetensors.numpy import save_file
        self._check_fitted()
        metadata, arrays = self._get_state()
        if getattr(self, "vocab_types_", None) is not None and "vocab_utf8" not in arrays:
            arrays["vocab_utf8"] = _encode_types(self.vocab_types_)
        if getattr(self, "item_names_", None) is not None:
            arrays["item_names_json"] = np.frombuffer(
                json.dumps(self.item_names_, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        doc = {"kind": "lla-model", "format_version": MODEL_FORMAT_VERSION,
               "lla_version": __version__, "model": self.model_name,
               "params": self.get_params(), "state": metadata,
               "corpus_path": getattr(self, "corpus_path_", None)}
        with atomic_directory(path, force=force) as tmp:
            save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()},
                      str(tmp / "arrays.safetensors"))
            (tmp / "model.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n",
                                            encoding="utf-8")
        return Path(path)


def _encode_types(types):
    """The vocabulary as a uint8 array (UTF-8, one type per line) for ``arrays.safetensors``."""
    return np.frombuffer("\n".join(types).encode("utf-8"), dtype=np.uint8)


def _decode_types(array):
    return bytes(np.asarray(array, dtype=np.uint8)).decode("utf-8").split("\n")


def model_label(path):
    """A saved model's display name: its directory's name, or the run's for the ``RUN/model``
    layout of ``lla compare`` (``cmp/runs/topic-lla-K50/model`` → ``topic-lla-K50``)."""
    path = Path(path).resolve()
    return path.parent.name if path.name == "model" else path.name


def load_model(path):
    """Load a model saved by :meth:`Model.save` (any model type)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    meta_path = path / "model.json"
    doc = read_json_document(meta_path, kind="lla-model", format_version=MODEL_FORMAT_VERSION,
                             description="a saved lla model")
    cls = _REGISTRY.get(doc.get("model")) if isinstance(doc.get("model"), str) else None
    if cls is None:
        raise InputError(f"unknown model type {doc.get('model')!r}", meta_path)
    params, state = object_field(doc, "params", meta_path), object_field(doc, "state", meta_path)
    try:
        arrays = load_file(str(path / "arrays.safetensors"))
    except (FileNotFoundError, SafetensorError, OSError) as e:
        raise InputError(f"cannot read arrays.safetensors ({e})", path) from None
    corpus_path = doc.get("corpus_path")
    if corpus_path is not None and not isinstance(corpus_path, str):
        raise InputError(f"'corpus_path' must be a string, got {type(corpus_path).__name__}",
                         meta_path)
    model = cls._from_saved_params(params, meta_path)
    try:
        model._set_state(state, arrays)
    except InputError as e:
        if e.path is None:
            raise InputError(e.problem, path) from None
        raise
    if getattr(model, "vocab_types_", None) is None and "vocab_utf8" in arrays:
        model.vocab_types_ = _decode_types(arrays["vocab_utf8"])
    model.item_names_ = None
    if "item_names_json" in arrays:
        names = json.loads(bytes(np.asarray(arrays["item_names_json"], np.uint8)).decode("utf-8"))
        if not isinstance(names, list) or len(names) != len(model.vocab_types_ or []):
            raise InputError("item names that do not match the vocabulary", path)
        model.item_names_ = names
    if getattr(model, "corpus_path_", None) is None:
        model.corpus_path_ = corpus_path
    return model


def registered_models():
    """{model name: class} of every model class defined so far (each registers itself; ``import
    lla`` imports every built-in one), in definition order."""
    return dict(_REGISTRY)
