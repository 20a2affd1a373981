"""Word-LLA and char-LLA: Latent LSTM Allocation whose LSTM reads the previous *word*
(DESIGN §1, the paper's §3.3).

    φ_k ~ Dir(β);  for every document: s_t = LSTM(x_{t-1}, s_{t-1}),
    θ_t = softmax(W_p s_t + b_p),  z_t ~ θ_t,  w_t ~ φ_{z_t}

with x_{t-1} = a V×E word embedding of w_{t-1} (:class:`WordLLA`), or the character-level
encoding of w_{t-1} by a bidirectional character LSTM, e = D_f s^f_m + D_b s^b_0 + b_d
(Ling et al. 2015, :class:`CharLLA`: no V×E table).  x_0 is a learned start vector.

Because the LSTM input does not depend on z, θ_t is a deterministic function of the observed
w_{<t}.  Three consequences, all used here:

* SE-step: one teacher-forced LSTM pass over the words of whole documents gives θ_t for every
  t, then z_t ~ π_t ∝ θ_{t,k} φ_{w_t,k} for all t at once
  (:func:`lla.inference.fused.fused_se_step`) — no sampling inside the recurrence (see
  :func:`lla.inference.fused.fused_log_theta` for how the recurrence runs on CPU and GPU).
* M-step: the LSTM is trained with inputs = previous words and targets = the sampled z.
* Scoring is exact: p(w_t | w_<t) = Σ_k θ_{t,k} φ_{w_t,k}, and the full predictive θ_t φ over
  V gives next-item ranks (:mod:`lla.inference.exact`).  No particles.

Everything else (LDA start, SEM loop, checkpoints, resume, early stopping, save/load) is shared
with topic-LLA through :class:`lla.models._lla_base.LLABase`.

For event logs (user data) the "characters" of an item are the characters of its identifier,
i.e. of its vocabulary type string (``"1042"`` for a movielens item id); ``<unk>`` is one symbol.
"""

from pathlib import Path

import numpy as np

from ..data.readers import read_type_names
from ..errors import InputError, ParameterError
from ..inference.exact import exact_log_prob, exact_paths, exact_predictive
from ..inference.fused import fused_se_step_fn
from ..nn.char_encoder import CharInputEncoder, build_char_table
from ..nn.dynamics import WordEncoder
from ..params import Param
from ._lla_base import LLA_PARAMETERS, LLABase


# -- the models ---------------------------------------------------------------------------------
class WordLLA(LLABase):
    """Word-LLA: the LSTM reads the previous word through a V×E embedding table.  Trained by SEM
    with the fused SE-step, scored exactly.

    Parameters
    ----------
    As :class:`lla.TopicLLA` (n_topics K, embedding_size E, hidden_size H, alpha, beta β, n_iter,
    init_lda_iter, init_lstm_epochs, lstm_epochs_per_iter, batch_size, bptt, learning_rate,
    weight_decay, dropout, early_stopping, patience, validation_every, n_threads, device,
    checkpoint_dir, random_state, show_progress), except:

    n_slots : documents processed side by side in the fused passes of the SE-step and of
        scoring: rows of the continuous-batching recurrence on the CPU, at most that many
        documents per padded ``nn.LSTM`` batch on CUDA (None: about total tokens / longest
        document rows; about 65,536 padded tokens per batch)
    (no ``validation_particles`` or ``n_particles``: scoring and validation are exact)

    Fitted attributes as :class:`lla.TopicLLA`: ``topic_word_`` (K, V) φ, ``n_wk_`` (V, K),
    ``z_``, ``dynamics_`` (encoder = :class:`lla.nn.dynamics.WordEncoder`), ``history_``, ...
    """

    model_name = "word-lla"

    def __init__(self, n_topics=50, *, embedding_size=128, hidden_size=128, alpha=None,
                 beta=0.01, n_iter=20, n_average=10, online_blocks=1, init_lda_iter=200,
                 init_lstm_epochs=10, lstm_epochs_per_iter=2, batch_size=32, bptt=64,
                 learning_rate=1e-3,
                 weight_decay=1e-4, dropout=0.2, early_stopping=False, patience=2,
                 validation_every=1, n_slots=None, n_threads=None, device="cpu",
                 checkpoint_dir=None, random_state=None, show_progress=None):
        self._store_arguments(locals())

    # -- hooks of LLABase -----------------------------------------------------------------------
    def _build_encoder(self, device):
        return WordEncoder(len(self.vocab_types_), int(self.embedding_size), device=device)

    def _lstm_symbols(self, words):
        return words

    def _se_step_fn(self):
        return fused_se_step_fn

    def _validation_log_prob(self, corpus):
        return self._exact(corpus)

    # -- scoring ------------------------------------------------------------------------------
    def _corpus_arrays(self, corpus):
        return (np.asarray(corpus.tokens), np.asarray(corpus.doc_lengths, dtype=np.int64),
                np.asarray(corpus.prefix_lengths, dtype=np.int64))

    def _exact(self, corpus, doc_topic=False):
        def score(tokens, lengths, prefix_lengths):  # all documents, or this rank's
            return exact_log_prob(self.dynamics_, self.topic_word_, tokens, lengths,
                                  prefix_lengths, n_slots=self.n_slots, doc_topic=doc_topic)
        return self._sharded(score, *self._corpus_arrays(corpus))

    def heldout_log_prob(self, corpus, *, n_particles=None):
        """Exact log p(w_t | w_<t) = log Σ_k θ_{t,k} φ_{k,w_t} (natural log) of every suffix
        token, documents in order (DESIGN §3); θ_t from the LSTM run over w_<t (whole
        documents, prefix and suffix).  ``n_particles`` is ignored: no particles needed."""
        self._check_fitted()
        self._check_vocabulary(corpus)
        return self._exact(corpus)

    def _predictive(self, corpus, consume, *, n_particles=None, max_rows=None, explain=False):
        """The full predictive θ_t φ over V at every held-out position (exact); ``max_rows``
        bounds the (rows, V) score matrix of one chunk; ``explain``: the topic each prefix token
        is read as, argmax_k θ_{t,k} φ_{k,w_t} (a second fused pass)."""
        self._check_vocabulary(corpus)
        exact_predictive(self.dynamics_, self.topic_word_, *self._corpus_arrays(corpus),
                         consume, max_rows=max_rows, n_slots=self.n_slots)
        if not explain:
            return None
        tokens, lengths, _ = self._corpus_arrays(corpus)
        path = exact_paths(self.dynamics_, self.topic_word_, tokens, lengths,
                           n_slots=self.n_slots)
        return [path[corpus.offsets[d]:corpus.offsets[d] + corpus.prefix_lengths[d]]
                for d in range(len(corpus))]

    def transform(self, corpus):
        """Topic proportions of every document's prefix, (D, K) float64: Σ_t p(z_t | w_≤t) over
        the prefix (exact posterior ∝ θ_t φ_{w_t}), normalised (uniform for an empty prefix)."""
        self._check_fitted()
        self._check_vocabulary(corpus)
        _, doc_topic = self._exact(corpus, doc_topic=True)
        totals = doc_topic.sum(axis=1, keepdims=True)
        K = doc_topic.shape[1]
        return np.where(totals > 0, doc_topic / np.maximum(totals, 1e-300), 1.0 / K)

    def topic_embedding(self):
        """The rows of W_p (K, H), float32 numpy: the topic embedding of word/char-LLA (DESIGN
        §5)."""
        self._check_fitted()
        return self.dynamics_.proj.weight.detach().cpu().numpy()


class CharLLA(WordLLA):
    """Char-LLA: the LSTM reads the previous word through a character-level BiLSTM encoder
    (Ling et al. 2015): e = D_f s^f_m + D_b s^b_0 + b_d.  No V×E input table, so the dense
    parameters do not grow with V (the V×K counts n_wk are sparse).

    Parameters as :class:`WordLLA`, plus ``char_embedding`` (character embedding size),
    ``char_hidden`` (state size C of each direction of the character LSTM) and
    ``max_word_length`` (characters kept per type, None = all) and ``type_names``.  The
    character vocabulary is built from the spelling of every training type: its name in
    ``type_names`` when one is given (a dict {type: name} or a file read by
    :func:`lla.data.readers.read_type_names`, e.g. MovieLens ``u.item`` for film titles), else
    the type string itself (for event logs: the item identifier).  The spellings and the
    character vocabulary are saved with the model (``model.json`` → ``spellings``,
    ``char_vocabulary``; the (V, L) character table in ``arrays.safetensors``), so loading never
    needs the names file.
    """

    model_name = "char-lla"
    _parameters = {
        **LLA_PARAMETERS,
        "char_embedding": Param("int", low=1, help="character embedding size"),
        "char_hidden": Param("int", low=1, help="state size C of each direction of the "
                                                "character LSTM"),
        "max_word_length": Param("int", low=1, none=True,
                                 help="characters kept per type (None: all)"),
        "type_names": Param("names", none=True, flag="--item-names", metavar="FILE",
                            help="char-lla: spell each type by its name from FILE "
                                 "(type<TAB>name lines, or MovieLens u.item for film titles) "
                                 "instead of its identifier"),
    }
    _variant_attributes = ("spellings_",)

    def __init__(self, n_topics=50, *, embedding_size=128, hidden_size=128, char_embedding=16,
                 char_hidden=64, max_word_length=None, alpha=None, beta=0.01, n_iter=20,
                 n_average=10, online_blocks=1, init_lda_iter=200, init_lstm_epochs=10,
                 lstm_epochs_per_iter=2,
                 batch_size=32, bptt=64, learning_rate=1e-3, weight_decay=1e-4, dropout=0.2,
                 early_stopping=False, patience=2, validation_every=1, n_slots=None,
                 n_threads=None, device="cpu", checkpoint_dir=None, random_state=None,
                 show_progress=None, type_names=None):
        self._store_arguments(locals())

    def _spellings(self):
        """The string whose characters encode each training type (V,): its name if
        ``type_names`` has one, else the type itself (``<unk>`` always stays itself)."""
        names = self.type_names
        types = list(self.vocab_types_)
        if names is None:
            return types
        if isinstance(names, (str, Path)):
            names = read_type_names(names)
        if not isinstance(names, dict):
            raise ParameterError(f"type_names must be None, a dict {{type: name}} or a file "
                                 f"path, got {type(names).__name__}")
        spelled = [t if i == 0 else str(names.get(t, t)) for i, t in enumerate(types)]
        if len(types) > 1 and all(t not in names for t in types[1:]):
            raise ParameterError(f"type_names: none of its {len(names):,} names belongs to a "
                                 f"vocabulary type (e.g. {types[1]!r})")
        return spelled

    def _build_encoder(self, device):
        spellings = self.__dict__.pop("_restored_spellings", None)
        self.spellings_ = spellings if spellings is not None else self._spellings()
        return CharInputEncoder(self.spellings_, int(self.embedding_size),
                                char_embedding=int(self.char_embedding),
                                char_hidden=int(self.char_hidden),
                                max_word_length=self.max_word_length, device=device)

    @property
    def char_vocabulary_(self):
        """The character vocabulary (list of str; ids 0..3 ``<pad> <w> </w> <unk>``)."""
        self._check_fitted()
        return list(self.dynamics_.encoder.char_vocabulary)

    def _extra_state(self):
        spellings = None if self.spellings_ == self.vocab_types_ else self.spellings_
        return {"char_vocabulary": self.char_vocabulary_, "spellings": spellings}, {}

    def _restore_extra_state(self, metadata, arrays):
        spellings = metadata.get("spellings") or list(self.vocab_types_)
        if len(spellings) != len(self.vocab_types_):
            raise InputError("saved char-lla model: its spellings do not match its vocabulary")
        self._restored_spellings = spellings
        chars, _, _ = build_char_table(spellings, max_word_length=self.max_word_length)
        if metadata.get("char_vocabulary") != chars:
            raise InputError("saved char-lla model: its character vocabulary does not match its "
                             "word vocabulary")
