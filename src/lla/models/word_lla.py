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
  t, then z_t ~ π_t ∝ θ_{t,k} φ_{w_t,k} for all t at once (:func:`fused_se_step`) — no sampling
  inside the recurrence (see :func:`lla.nn.dynamics.fused_log_theta` for how the recurrence
  runs on CPU and GPU).
* M-step: the LSTM is trained with inputs = previous words and targets = the sampled z.
* Scoring is exact: p(w_t | w_<t) = Σ_k θ_{t,k} φ_{w_t,k} (:func:`exact_log_prob`), and the
  full predictive θ_t φ over V gives next-item ranks (:func:`exact_ranks`).  No particles.

Everything else (LDA start, SEM loop, checkpoints, resume, early stopping, save/load) is shared
with topic-LLA through :class:`lla.models._lla_base.LLABase`.

For event logs (user data) the "characters" of an item are the characters of its identifier,
i.e. of its vocabulary type string (``"1042"`` for a movielens item id); ``<unk>`` is one symbol.
"""

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.readers import read_type_names
from ..errors import InputError, ParameterError
from ..evaluation.ranking import rank_of_true
from ..inference._threads import single_cpu_thread
from ..inference.sampling import categorical
from ..nn.char_encoder import PAD, CharWordEncoder, build_char_table
from ..nn.dynamics import WordEncoder, fused_log_theta
from ._lla_base import LLABase

#: padded tokens per fused batch (batch × longest document): bounds the (B, W, K) buffers
DEFAULT_BATCH_TOKENS = 1 << 16
#: LSTM steps per fused window (the state is carried across windows)
DEFAULT_WINDOW = 256


# -- the char encoder with a start vector --------------------------------------------------------
class CharInputEncoder(nn.Module):
    """x = char-BiLSTM encoding of the previous word (:class:`lla.nn.char_encoder.CharWordEncoder`)
    plus a learned start vector x_0 for symbol -1.

    Parameters
    ----------
    types : sequence of str (V,): the vocabulary; its characters make the character vocabulary
        (``char_vocabulary``, ids 0..3 are ``<pad> <w> </w> <unk>``)
    out_size : E
    char_embedding, char_hidden : character embedding size and per-direction state size C
    max_word_length : characters kept per type (None: all)

    Module parameters: ``words.char_embedding.weight`` (n_chars, Ce), ``words.lstm`` (Ce → C,
    both directions), ``words.combine`` (2C → E: D_f, D_b, b_d), ``start`` (E,).  The (V, L)
    character table is a buffer (saved, not a parameter): nothing here grows with V.
    """

    def __init__(self, types, out_size, *, char_embedding=16, char_hidden=64,
                 max_word_length=None, device=None):
        super().__init__()
        chars, table, lengths = build_char_table(list(types), max_word_length=max_word_length)
        self.char_vocabulary = chars
        # CharWordEncoder initialises itself from the global RNG: fork it (and restore it), then
        # reset_parameters() draws every value from the model's own generator
        with torch.random.fork_rng(devices=[]):
            self.words = CharWordEncoder(len(chars), int(char_embedding), int(char_hidden),
                                         int(out_size), char_table=(table, lengths))
        self.words.to(device)
        self.start = nn.Parameter(torch.empty(int(out_size), device=device))
        self.embedding_size = int(out_size)

    def reset_parameters(self, generator):
        """Every parameter from ``generator`` (CPU), copied to the device: embeddings and x_0
        N(0, 0.1²) (the padding row 0), LSTM and D_f, D_b, b_d U(±1/√C)."""
        with torch.no_grad():
            emb = self.words.char_embedding.weight
            emb.copy_(torch.empty(emb.shape).normal_(0.0, 0.1, generator=generator))
            emb[PAD].zero_()
            bound = 1.0 / np.sqrt(self.words.lstm.hidden_size)
            for p in list(self.words.lstm.parameters()) + list(self.words.combine.parameters()):
                p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=generator))
            self.start.copy_(torch.empty(self.start.shape).normal_(0.0, 0.1, generator=generator))

    def forward(self, symbols):
        """symbols: int64 (...) word ids, -1 = start → float (..., E).  Each distinct word type of
        the call is run through the character LSTM once."""
        flat = symbols.reshape(-1)
        unique, inverse = torch.unique(flat, return_inverse=True)      # sorted: -1 first
        has_start = bool(unique[0] < 0) if unique.numel() else False
        types = unique[1:] if has_start else unique
        parts = [self.start[None, :]] if has_start else []
        if types.numel():
            lengths = self.words.char_lengths[types]
            chars = self.words.char_ids[types][:, :int(lengths.max())]
            parts.append(self.words.encode_chars(chars, lengths))
        vectors = torch.cat(parts, dim=0)
        return vectors[inverse].reshape(*symbols.shape, -1)

    def table(self):
        """(V+1, E): every type encoded once (last row: x_0)."""
        return torch.cat([self.words.encode_all(), self.start[None, :]], dim=0)


# -- fused SE-step and exact scoring ---------------------------------------------------------------
def _batching(config_or_none):
    max_docs = getattr(config_or_none, "se_slots", 0) or None
    return dict(batch_tokens=DEFAULT_BATCH_TOKENS, window=DEFAULT_WINDOW, max_docs=max_docs)


def fused_se_step(*args, **kwargs):
    """See :func:`_fused_se_step` (on one CPU thread: the recurrence is many tiny ops, see
    :mod:`lla.inference._threads`)."""
    with single_cpu_thread(args[0].device):
        return _fused_se_step(*args, **kwargs)


@torch.no_grad()
def _fused_se_step(dynamics, log_phi_t, words, lengths, generator, config=None):
    """SE-step of word-/char-LLA: z_t ~ π_t ∝ θ_{t,k} φ_{w_t,k} for every token, where θ_t comes
    from one teacher-forced LSTM pass over the words (no dependence on the sampled z).

    Parameters
    ----------
    dynamics : lla.nn.dynamics.Dynamics whose encoder reads words
    log_phi_t : float (V, K) tensor on the model's device, log φ_{w,k} (word-major)
    words : int (N,), training tokens, documents concatenated; lengths : int (D,)
    generator : torch.Generator on the model's device (one uniform per padded position)
    config : StepConfig or None; ``config.se_slots`` > 0: documents side by side (rows)

    Returns int32 (N,), the sampled z aligned with ``words``.
    """
    device = dynamics.device
    words = np.asarray(words, dtype=np.int64)
    n = len(words)
    K = dynamics.n_topics
    tok = torch.as_tensor(words, device=device)
    z_buf = torch.zeros(n + 1, dtype=torch.int64, device=device)    # slot n: padding writes
    for index, log_theta in fused_log_theta(dynamics, words, lengths, **_batching(config)):
        w = tok[index.clamp(min=0)]
        u = torch.rand(index.numel(), generator=generator, device=device)
        z, _ = categorical((log_theta + log_phi_t[w]).reshape(-1, K), u)
        z_buf[torch.where(index >= 0, index, n).reshape(-1)] = z
    return z_buf[:n].to(torch.int32).cpu().numpy()


def _suffix_positions(lengths, prefix_lengths):
    """int64 (N,): the output slot of every token of the concatenated documents, -1 for prefix
    tokens (suffix tokens in document order, then position order)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    prefix_lengths = np.asarray(prefix_lengths, dtype=np.int64)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    t = np.arange(int(lengths.sum())) - starts
    suffix = t >= np.repeat(prefix_lengths, lengths)
    out = np.full(len(t), -1, dtype=np.int64)
    out[suffix] = np.arange(int(suffix.sum()))
    return out


def exact_log_prob(*args, **kwargs):
    """See :func:`_exact_log_prob` (on one CPU thread: the recurrence is many tiny ops, see
    :mod:`lla.inference._threads`)."""
    with single_cpu_thread(args[0].device):
        return _exact_log_prob(*args, **kwargs)


@torch.no_grad()
def _exact_log_prob(dynamics, topic_word_, tokens, lengths, prefix_lengths, *, max_docs=None,
                   doc_topic=False):
    """Exact held-out scoring (DESIGN §3): log p(w_t | w_<t) = log Σ_k θ_{t,k} φ_{k,w_t} of every
    suffix token, one fused pass over whole documents (prefix + suffix), float64 sums.

    Parameters
    ----------
    dynamics : Dynamics with a word-reading encoder
    topic_word_ : float64 (K, V) numpy, φ
    tokens : int (N,), lengths : int (D,), prefix_lengths : int (D,) — the corpus
    doc_topic : also return float64 (D, K): Σ over prefix tokens of the posterior
        p(z_t = k | w_≤t) ∝ θ_{t,k} φ_{k,w_t}

    Returns float64 (n_suffix_tokens,) [, doc_topic].
    """
    device = dynamics.device
    tokens = np.asarray(tokens, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    slot = torch.as_tensor(_suffix_positions(lengths, prefix_lengths), device=device)
    n_out = int((slot >= 0).sum())
    log_phi = torch.as_tensor(np.log(np.asarray(topic_word_, dtype=np.float64).T),
                              device=device)                           # (V, K) float64
    tok = torch.as_tensor(tokens, device=device)
    out = torch.zeros(n_out + 1, dtype=torch.float64, device=device)
    doc_of = torch.as_tensor(np.repeat(np.arange(len(lengths)), lengths), device=device)
    K = dynamics.n_topics
    topics = torch.zeros(len(lengths), K, dtype=torch.float64, device=device)
    for index, log_theta in fused_log_theta(dynamics, tokens, lengths, batch_tokens=DEFAULT_BATCH_TOKENS,
                                            window=DEFAULT_WINDOW, max_docs=max_docs):
        pos = index.clamp(min=0)
        joint = log_theta.double() + log_phi[tok[pos]]                   # (B, W, K)
        lp = torch.logsumexp(joint, dim=-1)                              # (B, W)
        s = torch.where(index >= 0, slot[pos], -1)
        out[torch.where(s >= 0, s, n_out).reshape(-1)] = lp.reshape(-1)
        if doc_topic:
            prefix = ((index >= 0) & (s < 0)).reshape(-1)
            post = torch.exp(joint - lp[..., None]).reshape(-1, K)[prefix]
            topics.index_add_(0, doc_of[pos.reshape(-1)[prefix]], post)
    lp = out[:n_out].cpu().numpy()
    return (lp, topics.cpu().numpy()) if doc_topic else lp


def exact_ranks(*args, **kwargs):
    """See :func:`_exact_ranks` (on one CPU thread: the recurrence is many tiny ops, see
    :mod:`lla.inference._threads`)."""
    with single_cpu_thread(args[0].device):
        return _exact_ranks(*args, **kwargs)


@torch.no_grad()
def _exact_ranks(dynamics, topic_word_, tokens, lengths, prefix_lengths, *, max_rows=None,
                max_docs=None):
    """Rank (1 = best) of every suffix token under the full predictive p(v | w_<t) = Σ_k θ_{t,k}
    φ_{k,v} over all V types (:func:`lla.evaluation.rank_of_true`), documents in order.

    The (rows, V) score matrix is built for at most ``max_rows`` suffix positions at a time
    (default: about 2²⁴ / V, i.e. ≤ 64 MiB of float32).
    """
    device = dynamics.device
    tokens = np.asarray(tokens, dtype=np.int64)
    phi = torch.as_tensor(np.asarray(topic_word_, dtype=np.float32), device=device)   # (K, V)
    V = phi.shape[1]
    rows = int(max_rows or max(1, (1 << 24) // V))
    slot = torch.as_tensor(_suffix_positions(lengths, prefix_lengths), device=device)
    n_out = int((slot >= 0).sum())
    tok = torch.as_tensor(tokens, device=device)
    out = np.zeros(n_out, dtype=np.int64)
    for index, log_theta in fused_log_theta(dynamics, tokens, lengths, batch_tokens=DEFAULT_BATCH_TOKENS,
                                            window=DEFAULT_WINDOW, max_docs=max_docs):
        pos = index.clamp(min=0).reshape(-1)
        s = torch.where(index.reshape(-1) >= 0, slot[pos], -1)
        keep = s >= 0
        if not bool(keep.any()):
            continue
        theta = torch.exp(log_theta.reshape(-1, log_theta.shape[-1])[keep])  # (M, K)
        true = tok[pos[keep]]
        where = s[keep].cpu().numpy()
        for a in range(0, theta.shape[0], rows):
            scores = (theta[a:a + rows] @ phi).cpu().numpy()                 # (m, V)
            out[where[a:a + rows]] = rank_of_true(scores, true[a:a + rows].cpu().numpy())
    return out


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

    se_batch_size : documents processed side by side in the fused passes of the SE-step and of
        scoring: rows of the continuous-batching recurrence on the CPU, at most that many
        documents per padded ``nn.LSTM`` batch on CUDA (None: about total tokens / longest
        document rows; about 65,536 padded tokens per batch)
    (no ``validation_particles``: validation is exact too)

    Fitted attributes as :class:`lla.TopicLLA`: ``topic_word_`` (K, V) φ, ``n_wk_`` (V, K),
    ``z_``, ``dynamics_`` (encoder = :class:`lla.nn.dynamics.WordEncoder`), ``history_``, ...
    """

    model_name = "word-lla"

    def __init__(self, n_topics=50, *, embedding_size=128, hidden_size=128, alpha=None,
                 beta=0.01, n_iter=10, init_lda_iter=200, init_lstm_epochs=10,
                 lstm_epochs_per_iter=2, batch_size=32, bptt=64, learning_rate=1e-3,
                 weight_decay=1e-4, dropout=0.2, early_stopping=False, patience=2,
                 validation_every=1, se_batch_size=None, n_threads=None, device="cpu",
                 checkpoint_dir=None, random_state=None, show_progress=None):
        self._store_arguments(locals())

    # -- hooks of LLABase -----------------------------------------------------------------------
    def _build_encoder(self, device):
        return WordEncoder(len(self.vocab_types_), int(self.embedding_size), device=device)

    def _lstm_symbols(self, words):
        return words

    def _se_step_fn(self):
        return fused_se_step

    def _validation_log_prob(self, corpus):
        return self._exact(corpus)

    # -- scoring ------------------------------------------------------------------------------
    def _corpus_arrays(self, corpus):
        return (np.asarray(corpus.tokens), np.asarray(corpus.doc_lengths, dtype=np.int64),
                np.asarray(corpus.prefix_lengths, dtype=np.int64))

    def _exact(self, corpus, doc_topic=False):
        return exact_log_prob(self.dynamics_, self.topic_word_, *self._corpus_arrays(corpus),
                              max_docs=self.se_batch_size, doc_topic=doc_topic)

    def heldout_log_prob(self, corpus):
        """Exact log p(w_t | w_<t) = log Σ_k θ_{t,k} φ_{k,w_t} (natural log) of every suffix
        token, documents in order (DESIGN §3); θ_t from the LSTM run over w_<t (whole
        documents, prefix and suffix)."""
        self._check_fitted()
        self._check_vocab(corpus)
        return self._exact(corpus)

    def heldout_ranks(self, corpus, *, max_rows=None):
        """Rank of every suffix token under the full predictive θ_t φ over V (HR@10, MRR);
        ``max_rows`` bounds the (rows, V) score matrix of one batch."""
        self._check_fitted()
        self._check_vocab(corpus)
        return exact_ranks(self.dynamics_, self.topic_word_, *self._corpus_arrays(corpus),
                           max_rows=max_rows, max_docs=self.se_batch_size)

    def transform(self, corpus):
        """Topic proportions of every document's prefix, (D, K) float64: Σ_t p(z_t | w_≤t) over
        the prefix (exact posterior ∝ θ_t φ_{w_t}), normalised (uniform for an empty prefix)."""
        self._check_fitted()
        self._check_vocab(corpus)
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
    _variant_attributes = ("spellings_",)
    _int_params = WordLLA._int_params + (("char_embedding", 1), ("char_hidden", 1))

    def __init__(self, n_topics=50, *, embedding_size=128, hidden_size=128, char_embedding=16,
                 char_hidden=64, max_word_length=None, alpha=None, beta=0.01, n_iter=10,
                 init_lda_iter=200, init_lstm_epochs=10, lstm_epochs_per_iter=2, batch_size=32,
                 bptt=64, learning_rate=1e-3, weight_decay=1e-4, dropout=0.2,
                 early_stopping=False, patience=2, validation_every=1, se_batch_size=None,
                 n_threads=None, device="cpu", checkpoint_dir=None, random_state=None,
                 show_progress=None, type_names=None):
        self._store_arguments(locals())

    def get_params(self):
        params = super().get_params()
        if isinstance(params["type_names"], Path):
            params["type_names"] = str(params["type_names"])
        return params

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
