"""Character-level word encoder (Ling et al. 2015), the input encoder of char-LSTM and, with a
start vector (:class:`CharInputEncoder`), of char-LLA.

A word w = c_1..c_m is written with begin/end-of-word marks as ``<w> c_1 .. c_m </w>``, run
through a bidirectional character LSTM, and its two final states are combined linearly::

    e_w = D_f s^f_m + D_b s^b_0 + b_d        (s^f_m: forward state after the last mark,
                                               s^b_0: backward state after the first mark)

``D_f``, ``D_b`` and ``b_d`` are one ``nn.Linear(2C → out_size)`` on the concatenation
[s^f_m; s^b_0].  The encoder maps word ids to vectors through a fixed (V, L) character table
built once from the vocabulary (:func:`build_char_table`); every *distinct* word id of a batch is
encoded once (``torch.unique`` → BiLSTM → index back), so a batch of N tokens with U distinct
types costs U character sequences, not N.

torch only, no module-level state.
"""

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..errors import ParameterError

PAD, BOW, EOW, UNK_WORD = 0, 1, 2, 3
N_SPECIAL = 4
SPECIAL_SYMBOLS = ("<pad>", "<w>", "</w>", "<unk>")


def build_char_table(types, *, max_word_length=None, unk_id=0):
    """The character vocabulary and the padded character-id table of a word vocabulary.

    Parameters
    ----------
    types : sequence of str, length V: the vocabulary's types (``Vocabulary.types``); for
        event-log items the "characters" are those of the item identifier
    max_word_length : int or None: keep at most this many characters of a type (None: all)
    unk_id : the id of the ``<unk>`` type, which is written as its own symbol ``<w> <unk> </w>``
        rather than as the five characters of its name

    Returns
    -------
    chars : list of str, the character vocabulary: ids 0..3 are ``<pad>``, ``<w>``, ``</w>``,
        ``<unk>`` (the unknown-word symbol), then every character seen, sorted by code point
    table : int64 array (V, L), row v = [BOW, c_1, .., c_m, EOW, PAD, ..], L = max m + 2
    lengths : int64 array (V,), m + 2 for every type
    """
    if max_word_length is not None and int(max_word_length) < 1:
        raise ParameterError(f"max_word_length must be >= 1 or None, got {max_word_length!r}")
    spelled = [t[:max_word_length] if max_word_length is not None else t for t in types]
    alphabet = sorted({ch for i, t in enumerate(spelled) if i != unk_id for ch in t})
    chars = list(SPECIAL_SYMBOLS) + alphabet
    index = {ch: N_SPECIAL + i for i, ch in enumerate(alphabet)}
    lengths = np.array([1 if i == unk_id else len(t) for i, t in enumerate(spelled)],
                       dtype=np.int64) + 2
    table = np.full((len(spelled), int(lengths.max()) if len(spelled) else 2), PAD, np.int64)
    for i, t in enumerate(spelled):
        ids = [UNK_WORD] if i == unk_id else [index[ch] for ch in t]
        table[i, :len(ids) + 2] = [BOW] + ids + [EOW]
    return chars, table, lengths


class CharWordEncoder(nn.Module):
    """Word ids → vectors through a bidirectional character LSTM.

    Parameters
    ----------
    n_chars : size of the character vocabulary (including the 4 special symbols)
    char_embedding : Ce, the character embedding size
    char_hidden : C, the state size of each direction of the character LSTM
    out_size : E, the size of the word vector
    char_table : optional (table (V, L), lengths (V,)) from :func:`build_char_table`; needed by
        :meth:`forward` (not by :meth:`encode_chars`).  Stored as buffers (saved with the state
        dict, not counted as parameters).

    Parameters of the module: ``char_embedding.weight`` (n_chars, Ce), ``lstm`` (bidirectional,
    Ce → C), ``combine`` (Linear 2C → E: [D_f D_b] and b_d).
    """

    def __init__(self, n_chars, char_embedding=16, char_hidden=64, out_size=128, *,
                 char_table=None):
        super().__init__()
        for name, v in (("n_chars", n_chars), ("char_embedding", char_embedding),
                        ("char_hidden", char_hidden), ("out_size", out_size)):
            if int(v) < 1:
                raise ParameterError(f"{name} must be >= 1, got {v!r}")
        self.n_chars = int(n_chars)
        self.out_size = int(out_size)
        self.char_embedding = nn.Embedding(self.n_chars, int(char_embedding), padding_idx=PAD)
        self.lstm = nn.LSTM(int(char_embedding), int(char_hidden), batch_first=True,
                            bidirectional=True)
        self.combine = nn.Linear(2 * int(char_hidden), self.out_size)
        if char_table is not None:
            table, lengths = char_table
            self.register_buffer("char_ids", torch.as_tensor(np.asarray(table), dtype=torch.int64))
            self.register_buffer("char_lengths",
                                 torch.as_tensor(np.asarray(lengths), dtype=torch.int64))
        else:
            self.register_buffer("char_ids", None)
            self.register_buffer("char_lengths", None)

    @property
    def n_types(self):
        """V, the number of word types the character table covers (None without a table)."""
        return None if self.char_ids is None else int(self.char_ids.shape[0])

    def encode_chars(self, char_ids, lengths):
        """Encode U character sequences.

        Parameters
        ----------
        char_ids : int64 (U, L) on the module's device, padded with ``PAD``
        lengths : int64 (U,), the number of symbols of each row (marks included), >= 1

        Returns
        -------
        float (U, E): D_f s^f_m + D_b s^b_0 + b_d
        """
        x = self.char_embedding(char_ids)                                 # (U, L, Ce)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)                                   # h_n (2, U, C)
        # h_n[0]: forward direction after the last real symbol; h_n[1]: backward after the first
        return self.combine(torch.cat([h_n[0], h_n[1]], dim=-1))

    def forward(self, word_ids):
        """word_ids : int64 (...) of ids in [0, V) → float (..., E).  Each distinct id of the
        call is encoded once."""
        if self.char_ids is None:
            raise ParameterError("this CharWordEncoder has no character table; pass char_table")
        unique, inverse = torch.unique(word_ids, return_inverse=True)     # (U,), (...)
        chars = self.char_ids[unique]                                     # (U, L)
        lengths = self.char_lengths[unique]                               # (U,)
        width = int(lengths.max()) if lengths.numel() else 1
        vectors = self.encode_chars(chars[:, :width], lengths)            # (U, E)
        return vectors[inverse]

    def encode_all(self, batch_size=4096):
        """Vectors of every type in the table: float (V, E) (e.g. to score without re-encoding)."""
        out = []
        for start in range(0, self.n_types, batch_size):
            ids = torch.arange(start, min(start + batch_size, self.n_types),
                               device=self.char_ids.device)
            lengths = self.char_lengths[ids]
            out.append(self.encode_chars(self.char_ids[ids][:, :int(lengths.max())], lengths))
        return torch.cat(out, dim=0)


# -- char-LLA's input encoder: the word encoder plus a start vector x_0 ----------------------
class CharInputEncoder(nn.Module):
    """x = char-BiLSTM encoding of the previous word (:class:`CharWordEncoder`) plus a learned
    start vector x_0 for symbol -1 (char-LLA's input encoder).

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
