"""Display names of vocabulary types (film titles, artist names), stored with the corpus.

``names.tsv`` in a corpus directory holds one line ``id<TAB>name`` per *named* type, ids
ascending; types without a name (and ``<unk>``) have no line.  Names given for types that are
not in the vocabulary (items seen only in held-out events, or never) are dropped and counted.
Tabs, carriage returns and newlines inside a name become spaces.
"""

import re
from pathlib import Path

from ..errors import InputError

NAMES_FILE = "names.tsv"
_SPACE = re.compile(r"[\t\r\n]+")


def _clean(name):
    name = _SPACE.sub(" ", str(name)).strip()
    return name or None


def names_for_vocabulary(vocab, names):
    """Align ``names`` ({type string: name}) with ``vocab``.

    Returns ``(item_names, summary)``: ``item_names`` is a list of V entries (a name, or None
    for ``<unk>`` and unnamed types); ``summary`` counts ``n_named`` and ``n_unnamed`` types
    (``<unk>`` not counted) and ``n_names_not_in_vocabulary``.
    """
    item_names = [None] * len(vocab)
    index = vocab.index
    outside = 0
    for t, name in names.items():
        i = index.get(t)
        if i is None or i == vocab.unk_id:
            outside += 1
            continue
        item_names[i] = _clean(name)
    n_named = sum(n is not None for n in item_names)
    return item_names, {"n_named": n_named, "n_unnamed": len(vocab) - 1 - n_named,
                        "n_names_not_in_vocabulary": outside}


def names_tsv(item_names):
    """Text of ``names.tsv`` for a list of V names (None = unnamed)."""
    return "".join(f"{i}\t{n}\n" for i, n in enumerate(item_names) if n is not None)


def read_names_tsv(path, n_types):
    """Read ``names.tsv`` back into a list of ``n_types`` entries (None where unnamed)."""
    path = Path(path)
    item_names = [None] * n_types
    try:
        with open(path, encoding="utf-8", newline="\n") as f:
            for lineno, line in enumerate(f, 1):
                i, sep, name = line.rstrip("\n").partition("\t")
                if not sep or not i.isdigit() or not name:
                    raise InputError("expected 'id<TAB>name'", path, lineno)
                if not 0 < int(i) < n_types:
                    raise InputError(f"type id {i} outside the vocabulary (1..{n_types - 1})",
                                     path, lineno)
                item_names[int(i)] = name
    except FileNotFoundError:
        raise InputError("no such file (listed in meta.json)", path) from None
    except UnicodeDecodeError:
        raise InputError("not valid UTF-8", path) from None
    return item_names


def display_names(vocab, item_names):
    """One string per type: its name where known, else the type string itself."""
    if item_names is None:
        return list(vocab.types)
    return [n if n is not None else t for t, n in zip(vocab.types, item_names)]


__all__ = ["NAMES_FILE", "names_for_vocabulary", "names_tsv", "read_names_tsv",
           "display_names"]
