"""The on-disk token store and the :class:`Corpus` that reads it (DESIGN §6).

A corpus directory holds::

    tokens.npy    int32, shape (n_tokens,)      every document's token ids, concatenated
    offsets.npy   int64, shape (n_docs + 1,)    document d is tokens[offsets[d]:offsets[d+1]]
    vocab.tsv     id<TAB>type<TAB>count         see :mod:`lla.data.vocab`
    doc_ids.txt   one document name per line    (article title / user id), optional
    names.tsv     id<TAB>name of named types    (film titles, artists), optional
    meta.json     format version, source, tokenizer settings, protocol, split fraction,
                  statistics

The arrays are opened with ``mmap_mode="r"``, so opening is O(1) in the corpus size and a
billion tokens never become Python objects.  Every document is split by position into a
training *prefix* and a held-out *suffix* by the corpus's evaluation protocol
(:mod:`lla.data.protocols`): ``prefix60`` (the first ``floor(split_fraction * N_d)`` tokens,
DESIGN §3) or ``loo`` (leave-one-out: all but the last two events).
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from .._atomic import atomic_directory
from .._metadata import read_json_document
from ..errors import InputError
from .names import NAMES_FILE, display_names, names_tsv, read_names_tsv
from .protocols import (DEFAULT_PROTOCOL, DEFAULT_SPLIT, PROTOCOLS, check_protocol,
                        loo_target_counts, prefix_lengths, target_positions)
from .vocab import Vocabulary

FORMAT_VERSION = 2  # 2: a "protocol" other than prefix60 (older lla would misread the split)


def format_version(protocol):
    """The oldest store format that describes ``protocol`` (1 for prefix60, as before)."""
    return 1 if protocol == DEFAULT_PROTOCOL else 2


def _pointers(lengths):
    """Offsets (D+1,) int64 of documents of the given lengths laid end to end."""
    ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    return ptr


class Corpus:
    """Documents of token ids with a positional train/held-out split.

    Attributes
    ----------
    tokens : int32 array (n_tokens,), possibly a read-only memory map
    offsets : int64 array (n_docs + 1,)
    vocab : Vocabulary, V = len(vocab) types, id 0 = ``<unk>``
    split_fraction : float, the fraction of each document used for training (``prefix60``)
    protocol : str, ``"prefix60"`` or ``"loo"`` (:mod:`lla.data.protocols`)
    meta : dict, the contents of ``meta.json``
    doc_ids : list[str] or None
    item_names : list of V (str or None) or None, display names of the types (None: unnamed)
    """

    def __init__(self, tokens, offsets, vocab, *, split_fraction=DEFAULT_SPLIT, meta=None,
                 doc_ids=None, path=None, protocol=DEFAULT_PROTOCOL, item_names=None):
        self.tokens = tokens
        self.offsets = offsets
        self.vocab = vocab
        self.split_fraction = float(split_fraction)
        self.protocol = check_protocol(protocol, "protocol")
        self.meta = dict(meta or {})
        self.doc_ids = doc_ids
        self.path = None if path is None else Path(path)
        if item_names is not None and len(item_names) != len(vocab):
            raise ValueError("item_names must have one entry per vocabulary type")
        self.item_names = None if item_names is None else list(item_names)
        self._prefix_lengths = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_documents(cls, documents, vocab, *, split_fraction=DEFAULT_SPLIT, doc_ids=None,
                       meta=None, protocol=DEFAULT_PROTOCOL, item_names=None):
        """In-memory corpus from a list of 1-d integer arrays of token ids (tests, synthetic
        data).  ``vocab`` may be a :class:`Vocabulary` or an int V (types named ``w0``..)."""
        if isinstance(vocab, (int, np.integer)):
            vocab = Vocabulary(["<unk>"] + [f"w{i}" for i in range(1, int(vocab))])
        docs = [np.asarray(d, dtype=np.int32).ravel() for d in documents]
        lengths = np.array([len(d) for d in docs], dtype=np.int64)
        offsets = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        tokens = np.concatenate(docs) if docs else np.zeros(0, np.int32)
        if tokens.size and (tokens.min() < 0 or tokens.max() >= len(vocab)):
            raise InputError(f"token ids must lie in [0, {len(vocab)})")
        corpus = cls(tokens, offsets, vocab, split_fraction=split_fraction, meta=meta,
                     doc_ids=doc_ids, protocol=protocol, item_names=item_names)
        if np.all(vocab.counts == 0):
            vocab.counts = corpus.prefix_counts()
        return corpus

    @classmethod
    def open(cls, path):
        """Open a corpus directory written by :meth:`save` or ``lla prepare``."""
        path = Path(path)
        if not path.is_dir():
            raise InputError("not a corpus directory (no such directory)", path)
        meta = read_json_document(path / "meta.json", kind="lla-corpus",
                                  format_version=FORMAT_VERSION, description="a corpus directory")
        try:
            tokens = np.load(path / "tokens.npy", mmap_mode="r", allow_pickle=False)
            offsets = np.load(path / "offsets.npy", mmap_mode="r", allow_pickle=False)
        except (FileNotFoundError, ValueError, OSError) as e:
            raise InputError(f"cannot read the token arrays ({e})", path) from None
        if tokens.dtype != np.int32 or offsets.dtype != np.int64 or offsets.ndim != 1 \
                or len(offsets) < 1 or offsets[-1] != len(tokens):
            raise InputError("token arrays are inconsistent (corrupt store)", path)
        vocab = Vocabulary.read_tsv(path / "vocab.tsv")
        _check_against_statistics(meta, tokens, offsets, vocab, path)
        doc_ids = _read_doc_ids(path / "doc_ids.txt")
        protocol = meta.get("protocol", DEFAULT_PROTOCOL)
        if protocol not in PROTOCOLS:
            raise InputError(f"unknown protocol {protocol!r}", path / "meta.json")
        item_names = None
        if meta.get("item_names"):
            item_names = read_names_tsv(path / NAMES_FILE, len(vocab))
        return cls(tokens, offsets, vocab, split_fraction=_split_fraction(meta, path),
                   meta=meta, doc_ids=doc_ids, path=path, protocol=protocol,
                   item_names=item_names)

    def save(self, path, *, force=False):
        """Write the store atomically (through :class:`StoreWriter`); ``force`` replaces an
        existing directory."""
        with atomic_directory(path, force=force) as tmp:
            writer = StoreWriter(tmp, self.n_tokens)
            for d, e in self._blocks():
                writer.add_tokens(self.tokens[self.offsets[d]:self.offsets[e]])
            writer.finish(self.offsets, self.vocab, doc_ids=self.doc_ids,
                          item_names=self.item_names, protocol=self.protocol,
                          split_fraction=self.split_fraction, meta=self.meta)
        return Path(path)

    # -- documents ----------------------------------------------------------------------------
    def __len__(self):
        return len(self.offsets) - 1

    @property
    def n_docs(self):
        return len(self)

    @property
    def n_tokens(self):
        return int(self.offsets[-1])

    @property
    def n_types(self):
        """V, the vocabulary size including ``<unk>``."""
        return len(self.vocab)

    def __getitem__(self, d):
        """Document ``d`` as an int32 array view (no copy)."""
        if not -len(self) <= d < len(self):
            raise IndexError(f"document index {d} out of range for {len(self)} documents")
        d = d % len(self)
        return self.tokens[self.offsets[d]:self.offsets[d + 1]]

    def __iter__(self):
        for d in range(len(self)):
            yield self[d]

    @property
    def doc_lengths(self):
        """int64 array (n_docs,): N_d."""
        return np.diff(np.asarray(self.offsets))

    @property
    def prefix_lengths(self):
        """int64 array (n_docs,): number of training tokens under the protocol
        (``prefix60``: floor(split_fraction * N_d); ``loo``: N_d minus its targets)."""
        if self._prefix_lengths is None:
            self._prefix_lengths = prefix_lengths(self.doc_lengths, self.split_fraction,
                                                  self.protocol)
        return self._prefix_lengths

    def targets(self, part="test"):
        """The ``"validation"`` or ``"test"`` targets as :class:`lla.data.protocols.Targets`
        (``docs``, ``positions``: int64 (n,)); each is ranked given ``self[d][:position]``.
        ``loo``: one per document that has one; ``prefix60``: test = every suffix position."""
        return target_positions(self.doc_lengths, part, self.split_fraction, self.protocol)

    def display_names(self):
        """list of V strings: each type's name where known, else the type string."""
        return display_names(self.vocab, self.item_names)

    @property
    def suffix_lengths(self):
        return self.doc_lengths - self.prefix_lengths

    @property
    def n_prefix_tokens(self):
        return int(self.prefix_lengths.sum())

    @property
    def n_suffix_tokens(self):
        return self.n_tokens - self.n_prefix_tokens

    def prefix(self, d):
        """Training tokens of document ``d`` (array view)."""
        start = self.offsets[d]
        return self.tokens[start:start + self.prefix_lengths[d]]

    def suffix(self, d):
        """Held-out tokens of document ``d`` (array view)."""
        return self.tokens[self.offsets[d] + self.prefix_lengths[d]:self.offsets[d + 1]]

    def prefix_mask(self):
        """bool array (n_tokens,): True where a token belongs to its document's prefix."""
        if len(self) == 0:
            return np.zeros(0, dtype=bool)
        return self._block_prefix_mask(0, len(self))

    def with_prefix_lengths(self, prefix_lengths):
        """The same documents with an explicit training prefix per document (int (D,), each in
        [0, N_d]): the positions after it are the held-out ones.  In memory; used to score or
        predict at chosen positions (e.g. the next item after a history)."""
        lengths = np.asarray(prefix_lengths, dtype=np.int64)
        if lengths.shape != (len(self),) or (lengths < 0).any() or \
                (lengths > self.doc_lengths).any():
            raise InputError(f"prefix lengths must be {len(self)} integers in [0, N_d]")
        copy = Corpus(self.tokens, self.offsets, self.vocab, split_fraction=self.split_fraction,
                      meta=self.meta, doc_ids=self.doc_ids, path=self.path,
                      protocol=self.protocol, item_names=self.item_names)
        copy._prefix_lengths = lengths
        return copy

    def prefix_arrays(self):
        """The training prefixes as flat arrays: (words int32 (N,), doc_ptr int64 (D+1,),
        prefix_lengths int64 (D,)); document d's prefix is ``words[doc_ptr[d]:doc_ptr[d+1]]``."""
        lengths = np.asarray(self.prefix_lengths, dtype=np.int64)
        words = np.ascontiguousarray(np.asarray(self.tokens)[self.prefix_mask()], dtype=np.int32)
        return words, _pointers(lengths), lengths

    def suffix_arrays(self):
        """The held-out suffixes as flat arrays: (words int32 (M,), doc_ptr int64 (D+1,))."""
        lengths = np.asarray(self.suffix_lengths, dtype=np.int64)
        words = np.ascontiguousarray(np.asarray(self.tokens)[~self.prefix_mask()],
                                     dtype=np.int32)
        return words, _pointers(lengths)

    def fingerprint(self):
        """Hex BLAKE2b of what a model trains on: V, the prefix lengths and the prefix tokens.
        Two corpora with the same fingerprint have the same training data (whatever their
        suffixes); models store it to recognise their training corpus and to refuse to resume
        on another one."""
        h = hashlib.blake2b(digest_size=16)
        h.update(np.int64(self.n_types).tobytes())
        h.update(np.ascontiguousarray(self.prefix_lengths, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(np.asarray(self.tokens)[self.prefix_mask()],
                                      dtype=np.int32).tobytes())
        return h.hexdigest()

    def prefix_corpus(self):
        """A corpus holding only the training prefixes (each then split again by the same
        fraction): the validation split for early stopping that never touches the suffixes."""
        docs = [np.asarray(self.prefix(d)) for d in range(len(self))]
        return Corpus.from_documents(docs, self.vocab, split_fraction=self.split_fraction,
                                     doc_ids=self.doc_ids, meta={"source": "prefixes"},
                                     protocol=self.protocol, item_names=self.item_names)

    def subset(self, doc_indices):
        """In-memory corpus of the given documents (same vocabulary and split)."""
        idx = np.asarray(doc_indices, dtype=np.int64)
        docs = [np.asarray(self[int(d)]) for d in idx]
        ids = None if self.doc_ids is None else [self.doc_ids[int(d)] for d in idx]
        return Corpus.from_documents(docs, self.vocab, split_fraction=self.split_fraction,
                                     doc_ids=ids, meta=self.meta, protocol=self.protocol,
                                     item_names=self.item_names)

    def _blocks(self, block_tokens=1 << 22):
        """Yield (first_doc, last_doc_exclusive) ranges of about ``block_tokens`` tokens, so that
        whole-corpus passes stay within a fixed amount of memory."""
        offsets = np.asarray(self.offsets)
        d = 0
        while d < len(self):
            e = int(np.searchsorted(offsets, offsets[d] + block_tokens, side="right")) - 1
            e = min(max(e, d + 1), len(self))
            yield d, e
            d = e

    def _block_prefix_mask(self, d, e):
        lengths = self.doc_lengths[d:e]
        starts = np.asarray(self.offsets[d:e]) - self.offsets[d]
        position = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts, lengths)
        return position < np.repeat(self.prefix_lengths[d:e], lengths)

    def prefix_counts(self):
        """int64 array (V,): how often each type occurs in the training prefixes."""
        counts = np.zeros(len(self.vocab), dtype=np.int64)
        for d, e in self._blocks():
            block = np.asarray(self.tokens[self.offsets[d]:self.offsets[e]])
            counts += np.bincount(block[self._block_prefix_mask(d, e)], minlength=len(counts))
        return counts

    # -- summaries ----------------------------------------------------------------------------
    def statistics(self):
        """Counts that ``lla prepare`` prints and ``meta.json`` stores."""
        unk_prefix = unk_all = 0
        for d, e in self._blocks():
            unk = np.asarray(self.tokens[self.offsets[d]:self.offsets[e]]) == self.vocab.unk_id
            unk_all += int(unk.sum())
            unk_prefix += int((unk & self._block_prefix_mask(d, e)).sum())
        lengths = self.doc_lengths
        stats = {
            "n_docs": len(self),
            "n_tokens": self.n_tokens,
            "n_prefix_tokens": self.n_prefix_tokens,
            "n_suffix_tokens": self.n_suffix_tokens,
            "vocab_size": len(self.vocab),
            "n_unk_prefix": unk_prefix,
            "n_unk_suffix": unk_all - unk_prefix,
            "min_doc_length": int(lengths.min()) if len(self) else 0,
            "max_doc_length": int(lengths.max()) if len(self) else 0,
        }
        if self.protocol == "loo":
            stats.update(self.target_statistics())
        return stats

    def target_statistics(self):
        """Per part: how many targets, and how many of them are ``<unk>``."""
        stats = {}
        offsets = np.asarray(self.offsets)
        for part in ("validation", "test"):
            docs, positions = self.targets(part)
            items = np.asarray(self.tokens[offsets[docs] + positions]) if len(docs) else docs
            stats[f"n_{part}_targets"] = int(len(docs))
            stats[f"n_unk_{part}_targets"] = int((items == self.vocab.unk_id).sum())
        stats["n_docs_without_targets"] = int((loo_target_counts(self.doc_lengths) == 0).sum())
        return stats

    def __repr__(self):
        where = f", path={str(self.path)!r}" if self.path else ""
        return (f"Corpus(n_docs={len(self)}, n_tokens={self.n_tokens}, V={len(self.vocab)}, "
                f"protocol={self.protocol!r}, split={self.split_fraction}{where})")


# -- the one writer of the format (fairseq's one-writer indexed-dataset builder is the model) ----
class StoreWriter:
    """Write one corpus store into ``directory``: ``n_tokens`` int32 token ids streamed by
    :meth:`add_tokens`, then the index files and ``meta.json`` by :meth:`finish`."""

    def __init__(self, directory, n_tokens):
        self.directory = Path(directory)
        self.n_tokens = int(n_tokens)
        self._written = 0
        # plain writes, not a memory map: written pages of a map count as resident memory
        self._tokens = open(self.directory / "tokens.npy", "wb")
        np.lib.format.write_array_header_1_0(
            self._tokens, {"descr": np.dtype(np.int32).str, "fortran_order": False,
                           "shape": (self.n_tokens,)})

    def add_tokens(self, block):
        """Append a block of token ids (any integer array; written as int32)."""
        block = np.ascontiguousarray(block, dtype=np.int32)
        if self._written + block.size > self.n_tokens:
            raise ValueError(f"more than the {self.n_tokens} tokens announced")
        self._tokens.write(block.tobytes())
        self._written += block.size

    def finish(self, offsets, vocab, *, doc_ids=None, item_names=None, protocol=DEFAULT_PROTOCOL,
               split_fraction=DEFAULT_SPLIT, meta=None, extra_statistics=None):
        """Write the rest of the store and return its ``meta.json`` contents.

        offsets : int64 (D+1,), document d is tokens[offsets[d]:offsets[d+1]]
        vocab : :class:`lla.data.Vocabulary`
        doc_ids : D names or None; item_names : V names (None where unnamed) or None
        meta : further fields of ``meta.json`` (source, options, ...); an ``item_names`` field
            there is kept and gets ``file`` = names.tsv
        extra_statistics : counts only the producer knows (documents read and dropped, time
            ties, seconds), added after the statistics read back from the store
        """
        self._tokens.close()
        if self._written != self.n_tokens:
            raise ValueError(f"{self._written} tokens written, {self.n_tokens} announced")
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        np.save(self.directory / "offsets.npy", offsets)
        (self.directory / "vocab.tsv").write_text(vocab.to_tsv(), encoding="utf-8")
        if doc_ids is not None:
            (self.directory / "doc_ids.txt").write_text("".join(f"{d}\n" for d in doc_ids),
                                                        encoding="utf-8")
        meta = dict(meta or {})
        if item_names is None:
            meta.pop("item_names", None)
        else:
            (self.directory / NAMES_FILE).write_text(names_tsv(item_names), encoding="utf-8")
            meta["item_names"] = {**(meta.get("item_names") or {}), "file": NAMES_FILE}
        written = Corpus(np.load(self.directory / "tokens.npy", mmap_mode="r"), offsets, vocab,
                         split_fraction=split_fraction, protocol=protocol)
        meta.update(kind="lla-corpus", format_version=format_version(protocol),
                     protocol=protocol, split_fraction=split_fraction,
                     statistics={**written.statistics(), **(extra_statistics or {})})
        (self.directory / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True)
                                                  + "\n", encoding="utf-8")
        return meta


def _check_against_statistics(meta, tokens, offsets, vocab, path):
    """O(1) consistency of a store with the statistics its meta.json recorded when it was
    written: a truncated vocab.tsv would otherwise let token ids run past V unnoticed."""
    stats = meta.get("statistics")
    if not isinstance(stats, dict):
        return
    for key, actual, source in (("vocab_size", len(vocab), "vocab.tsv"),
                                ("n_tokens", len(tokens), "tokens.npy"),
                                ("n_docs", len(offsets) - 1, "offsets.npy")):
        expected = stats.get(key)
        if isinstance(expected, int) and expected != actual:
            raise InputError(f"{source} holds {actual:,} entries but meta.json records "
                             f"{key} = {expected:,} (corrupt store)", path)


def _split_fraction(meta, path):
    """meta.json's split_fraction: a number strictly between 0 and 1."""
    value = meta.get("split_fraction", DEFAULT_SPLIT)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise InputError(f"split_fraction must be a number strictly between 0 and 1, got "
                         f"{value!r}", path / "meta.json")
    return float(value)


def _read_doc_ids(path):
    """doc_ids.txt as a list of names (None if absent); one-line error if it is not UTF-8."""
    if not path.exists():
        return None
    try:
        return path.read_text(encoding="utf-8").split("\n")[:-1]
    except UnicodeDecodeError as e:
        raise InputError(f"not valid UTF-8 (byte {e.start})", path) from None
