"""``lla prepare``: raw files -> corpus store, streaming, written atomically.

One pass over the input: each document is tokenised, its tokens get provisional integer ids
(one dict entry per distinct type, never per token) and are appended to a temporary int32 file;
training-prefix counts accumulate per provisional id.  Then the vocabulary is chosen from the
prefix counts (max size / min count, ``<unk>`` for the rest) and the temporary file is remapped
block by block into ``tokens.npy``.  Peak memory is the type dictionary plus one block, not the
corpus.  Everything is written into a temporary directory that is renamed into place at the end.

The evaluation protocol (``prefix60`` or ``loo``, :mod:`lla.data.protocols`) decides which events
are training data; it is stored in ``meta.json``.  Item names (``names.tsv``) come from
``item_names=`` or, for MovieLens and Last.fm, from the file that ships beside the events.
"""

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .._atomic import atomic_directory, check_writable
from .._progress import progress
from .._version import __version__
from ..errors import InputError, ParameterError
from .names import names_for_vocabulary
from .protocols import DEFAULT_PROTOCOL, check_protocol, loo_target_counts
from .readers import EVENT_FORMATS, FORMATS, read_documents, read_type_names
from .store import DEFAULT_SPLIT, Corpus, StoreWriter, prefix_lengths
from .tokenize import TOKENIZERS, make_tokenizer
from .vocab import UNK, Vocabulary

_BLOCK = 1 << 22  # tokens per remapping block


@dataclass(frozen=True)
class PrepareOptions:
    """How raw input becomes a corpus (every field is stored in ``meta.json``)."""

    format: str = "text"
    tokenizer: str = "words"
    lowercase: bool = True
    min_doc_tokens: int = 1
    max_vocab: int = None
    min_count: int = 1
    split_fraction: float = DEFAULT_SPLIT
    protocol: str = DEFAULT_PROTOCOL
    # event logs (format "events")
    user_column: str = "user"
    item_column: str = "item"
    time_column: str = "timestamp"
    delimiter: str = None
    # jsonl
    field: str = None

    def validate(self):
        if self.format not in FORMATS:
            raise ParameterError(f"--format: unknown format {self.format!r}; choose one of "
                                 f"{', '.join(FORMATS)}")
        if self.tokenizer not in TOKENIZERS:
            raise ParameterError(f"--tokenizer: unknown tokenizer {self.tokenizer!r}")
        if self.min_doc_tokens < 1:
            raise ParameterError(f"--min-doc-tokens must be >= 1, got {self.min_doc_tokens}")
        if self.max_vocab is not None and self.max_vocab < 1:
            raise ParameterError(f"--max-vocab must be >= 1, got {self.max_vocab}")
        if self.min_count < 1:
            raise ParameterError(f"--min-count must be >= 1, got {self.min_count}")
        check_protocol(self.protocol)
        if not 0.0 < self.split_fraction < 1.0:
            raise ParameterError(f"--split must lie strictly between 0 and 1, got "
                                 f"{self.split_fraction}")
        return self


# The benchmark corpora (docs/corpora.md).
PRESETS = {
    "wiki": PrepareOptions(format="wikiextractor", tokenizer="words", lowercase=True,
                           min_doc_tokens=500, max_vocab=20000, min_count=1),
    "movielens": PrepareOptions(format="movielens", min_doc_tokens=1, max_vocab=None,
                                min_count=1),
    # Last.fm HetRec 2011 user_taggedartists.dat: one event per (user, artist, date)
    "lastfm": PrepareOptions(format="lastfm", min_doc_tokens=1, max_vocab=None, min_count=1),
    # DIGINETICA item views (SR-GNN sample): one document per session, clicks by timeframe
    "diginetica": PrepareOptions(format="events", user_column="session_id",
                                 item_column="item_id", time_column="timeframe", delimiter=";",
                                 min_doc_tokens=1, max_vocab=None, min_count=1),
    # the Wikipedia sample shipped in the package (lla.datasets), read with the wiki recipe
    "wiki-sample": PrepareOptions(format="wikiextractor", tokenizer="words", lowercase=True,
                                  min_doc_tokens=500, max_vocab=20000, min_count=1),
}


def preset_inputs(name):
    """Input files a preset brings with it (only ``wiki-sample``); [] for the others."""
    if name == "wiki-sample":
        from ..datasets import wiki_sample_path
        return [wiki_sample_path()]
    return []


# Files of item names that ship beside an event log of this format (first one found is used).
COMPANION_NAMES = {"movielens": ("u.item",),
                   "lastfm": ("artists.dat", "artists.dat.xz", "artists.dat.gz")}


def companion_names(fmt, inputs):
    """The item-name file beside the first input for ``fmt`` (MovieLens ``u.item``, Last.fm
    ``artists.dat``), or None."""
    if not inputs:
        return None
    folder = Path(inputs[0]).parent
    for name in COMPANION_NAMES.get(fmt, ()):
        if (folder / name).is_file():
            return folder / name
    return None


def preset(name, **overrides):
    """The options of preset ``name`` with some fields replaced."""
    if name not in PRESETS:
        raise ParameterError(f"--preset: unknown preset {name!r}; choose one of "
                             f"{', '.join(PRESETS)}")
    return replace(PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})


def prepare(inputs, out, options=PrepareOptions(), *, force=False, show_progress=None,
            source=None, item_names=None, vocabulary=None):
    """Read ``inputs`` (paths) with ``options`` and write the corpus store to ``out``.

    ``vocabulary``: a :class:`Vocabulary` to use as it is instead of building one from the
    prefixes (e.g. another corpus's, so that its models can score this one, or to use it as the
    reference corpus of topic coherence); types outside it become ``<unk>``.

    ``item_names``: a file of type names (:func:`lla.data.readers.read_type_names`), or None
    for the names that ship beside the input (:func:`companion_names`), or False for none.
    Returns the opened :class:`Corpus`.  Raises :class:`InputError` for bad input; nothing is
    left at ``out`` unless the whole corpus was written.
    """
    options.validate()
    inputs = [Path(p) for p in inputs]
    if not inputs:
        raise ParameterError("no input files given")
    for p in inputs:
        if not p.exists():
            raise InputError("no such file", p)
    out = check_writable(out, force=force)  # before reading a byte of input
    tokenize = make_tokenizer(options.tokenizer, options.lowercase)
    reader_options = {k: getattr(options, k) for k in
                      ("user_column", "item_column", "time_column", "delimiter", "field")}
    with_times = options.format in EVENT_FORMATS
    if with_times:
        reader_options["with_times"] = True
    if item_names is None:
        item_names = companion_names(options.format, inputs)
    names = read_type_names(item_names) if item_names else None
    loo = options.protocol == "loo"
    tied = {"validation": 0, "test": 0}            # targets tied in time with the event before
    start_time = time.perf_counter()

    with atomic_directory(out, force=force) as tmp:
        type_ids = defaultdict()
        type_ids.default_factory = type_ids.__len__  # new type -> next provisional id
        counts = np.zeros(1024, np.int64)              # prefix counts by provisional id
        totals = np.zeros(1024, np.int64)              # all counts by provisional id
        lengths, doc_ids = [], []
        n_read = n_dropped = 0
        raw_path = tmp / "tokens.raw"
        n_tokens_read = 0
        bar = progress(desc="prepare", unit="doc", enabled=show_progress)
        with open(raw_path, "wb") as raw:
            for path in inputs:
                found = 0
                for doc_id, tokens, *times in read_documents(path, options.format, tokenize,
                                                             **reader_options):
                    found += 1
                    n_read += 1
                    if len(tokens) < options.min_doc_tokens:
                        n_dropped += 1
                        continue
                    ids = np.fromiter(map(type_ids.__getitem__, tokens), np.int64, len(tokens))
                    if len(type_ids) > len(counts):
                        grow = np.zeros(max(len(counts), len(type_ids) - len(counts)), np.int64)
                        counts = np.concatenate([counts, grow])
                        totals = np.concatenate([totals, grow])
                    n_prefix = int(prefix_lengths([len(ids)], options.split_fraction,
                                                  options.protocol)[0])
                    if loo:
                        _count_tied_targets(times[0] if times else None, tied)
                    counts[:len(type_ids)] += np.bincount(ids[:n_prefix], minlength=len(type_ids))
                    totals[:len(type_ids)] += np.bincount(ids, minlength=len(type_ids))
                    raw.write(ids.astype(np.int32).tobytes())
                    lengths.append(len(ids))
                    doc_ids.append(" ".join(str(doc_id).split()))
                    n_tokens_read += len(ids)
                    bar.update(1)
                    if len(lengths) % 256 == 0:
                        bar.set_postfix_str(f"{n_tokens_read:,} tokens", refresh=False)
                if found == 0:
                    raise InputError("no documents found (empty input?)", path)
        bar.close()
        if not lengths:
            raise InputError(f"no documents left after filtering ({n_read} read, all shorter "
                             f"than --min-doc-tokens={options.min_doc_tokens})", inputs[0])

        # vocabulary from the training prefixes only
        types = list(type_ids.keys())
        if vocabulary is not None:
            vocab = Vocabulary(vocabulary.types, np.zeros(len(vocabulary), np.int64))
            for t, c in zip(types, counts[:len(types)].tolist()):
                i = vocab.index.get(t, 0)
                vocab.counts[i] += c
        else:
            vocab = Vocabulary.from_counts(dict(zip(types, counts[:len(types)].tolist())),
                                           max_size=options.max_vocab,
                                           min_count=options.min_count)
        if len(vocab) == 1:
            raise InputError("the vocabulary is empty: no type in the training prefixes reaches "
                             f"--min-count={options.min_count}", inputs[0])
        bad = next((t for t in vocab.types if "\t" in t or "\n" in t or "\r" in t), None)
        if bad is not None:
            raise InputError(f"token {bad!r} contains a tab or newline", inputs[0])
        remap = np.zeros(len(types), np.int32)  # provisional id -> final id (0 = <unk>)
        index = vocab.index
        for provisional, t in enumerate(types):
            remap[provisional] = index.get(t, 0)
        if UNK in type_ids:  # a literal <unk> in the input is our <unk>
            remap[type_ids[UNK]] = 0

        offsets = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        n_tokens = int(offsets[-1])
        writer = StoreWriter(tmp, n_tokens)
        for begin in range(0, n_tokens, _BLOCK):
            count = min(_BLOCK, n_tokens - begin)
            writer.add_tokens(remap[np.fromfile(raw_path, dtype=np.int32, count=count,
                                                offset=4 * begin)])
        raw_path.unlink()

        extra = {f"n_{part}_targets_tied": tied[part] for part in tied} if loo and with_times \
            else {}
        extra.update(n_docs_read=n_read, n_docs_dropped=n_dropped, n_types_seen=len(types),
                     seconds=round(time.perf_counter() - start_time, 3))
        meta = {"lla_version": __version__, "source": source or [str(p) for p in inputs],
                "options": {k: v for k, v in asdict(options).items()}}
        aligned = None
        if names is not None:
            aligned, summary = names_for_vocabulary(vocab, names)
            meta["item_names"] = {"source": str(item_names), **summary}
        writer.finish(offsets, vocab, doc_ids=doc_ids, item_names=aligned,
                      protocol=options.protocol, split_fraction=options.split_fraction,
                      meta=meta, extra_statistics=extra)
    return Corpus.open(out)


def _count_tied_targets(times, tied):
    """Count the leave-one-out targets of one document (event sort keys ``times``, or None when
    the format has no times) that share their timestamp with the event before them."""
    if times is None:
        return
    n = len(times)
    n_targets = int(loo_target_counts([n])[0])
    for part, position in (("test", n - 1), ("validation", n - 2))[:n_targets]:
        if times[position] == times[position - 1]:
            tied[part] += 1
