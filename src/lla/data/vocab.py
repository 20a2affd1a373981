"""The vocabulary: token type <-> integer id, with training counts.

Id 0 is always ``<unk>``; ids 1..V-1 are the kept types ordered by decreasing training-prefix
count, ties broken by the type's string (docs/corpora.md).  ``counts[i]`` is how often id ``i``
occurs in the training prefixes (for ``<unk>``: how many prefix tokens were mapped to it).
"""

from pathlib import Path

import numpy as np

from ..errors import InputError

UNK = "<unk>"


class Vocabulary:
    """Types and their prefix counts.  ``len(vocab)`` is V including ``<unk>``.

    Attributes
    ----------
    types : list[str], length V
    counts : int64 array, shape (V,)
    """

    unk_id = 0

    def __init__(self, types, counts=None):
        types = list(types)
        if not types or types[0] != UNK:
            raise ValueError("a Vocabulary's first type must be '<unk>'")
        self.types = types
        self.counts = (np.zeros(len(types), np.int64) if counts is None
                       else np.asarray(counts, dtype=np.int64))
        if self.counts.shape != (len(types),):
            raise ValueError("counts must have one entry per type")
        self._index = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_counts(cls, type_counts, *, max_size=None, min_count=1, unk_count=0):
        """Keep the types with ``count >= min_count``, at most ``max_size`` of them (not counting
        ``<unk>``), most frequent first, ties by string.  ``type_counts``: mapping type -> count.
        The counts of dropped types are added to ``<unk>``'s."""
        items = [(t, c) for t, c in type_counts.items() if t != UNK]
        unk_count += int(type_counts.get(UNK, 0))
        items.sort(key=lambda tc: (-tc[1], tc[0]))
        kept = [(t, c) for t, c in items if c >= min_count]
        if max_size is not None:
            kept = kept[:max_size]
        dropped = sum(c for _, c in items) - sum(c for _, c in kept)
        types = [UNK] + [t for t, _ in kept]
        counts = [unk_count + dropped] + [c for _, c in kept]
        return cls(types, counts)

    # -- lookup -------------------------------------------------------------------------------
    def __len__(self):
        return len(self.types)

    def __getitem__(self, i):
        return self.types[i]

    def __contains__(self, token):
        return token in self.index

    def __iter__(self):
        return iter(self.types)

    @property
    def index(self):
        """dict type -> id (built on first use)."""
        if self._index is None:
            self._index = {t: i for i, t in enumerate(self.types)}
        return self._index

    def id(self, token):
        """Id of ``token``; ``<unk>``'s id for unknown types."""
        return self.index.get(token, self.unk_id)

    def encode(self, tokens):
        """int32 array of ids for a sequence of type strings."""
        get = self.index.get
        return np.fromiter((get(t, 0) for t in tokens), dtype=np.int32, count=len(tokens))

    def decode(self, ids):
        return [self.types[i] for i in ids]

    def __eq__(self, other):
        return (isinstance(other, Vocabulary) and self.types == other.types
                and np.array_equal(self.counts, other.counts))

    def __repr__(self):
        return f"Vocabulary(size={len(self)})"

    # -- files --------------------------------------------------------------------------------
    def to_tsv(self):
        """Text of ``vocab.tsv``: ``id<TAB>type<TAB>count`` per line, no header."""
        return "".join(f"{i}\t{t}\t{c}\n" for i, (t, c) in enumerate(zip(self.types, self.counts)))

    @classmethod
    def read_tsv(cls, path):
        path = Path(path)
        types, counts = [], []
        try:
            with open(path, encoding="utf-8", newline="\n") as f:
                for lineno, line in enumerate(f, 1):
                    parts = line.rstrip("\n").split("\t")
                    if len(parts) != 3 or not parts[0].isdigit() or int(parts[0]) != lineno - 1:
                        raise InputError("expected 'id<TAB>type<TAB>count' with ids 0, 1, 2, ...",
                                         path, lineno)
                    types.append(parts[1])
                    counts.append(int(parts[2]))
        except FileNotFoundError:
            raise InputError("no such file", path) from None
        except UnicodeDecodeError:
            raise InputError("not valid UTF-8", path) from None
        if not types or types[0] != UNK:
            raise InputError("first entry must be '<unk>'", path)
        return cls(types, counts)
