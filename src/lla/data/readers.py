"""Streaming readers: raw files -> ``(doc_id, tokens)`` pairs, one document at a time.

Every reader opens ``.gz``, ``.bz2`` and ``.xz`` files transparently, decodes each line as
UTF-8 on its own (so an error names the exact line), and raises :class:`lla.InputError` with
``file:line: problem`` on bad input.  Readers never hold more than one document of Python
strings at a time, except the event-log readers, which must sort a user's events and so read
the columns (not Python objects per event) into memory.

Formats
-------
text           one document per line (blank lines skipped)
wikiextractor  WikiExtractor ``<doc ...>`` blocks; the first line after ``<doc>`` (the title)
               is dropped (docs/corpora.md)
wikitext       WikiText token files: an article starts at each top-level `` = Title = `` line
jsonl          one JSON object per line with a ``tokens`` list or a ``text`` string
events         CSV / TSV / Parquet of (user, item, timestamp): one document per user, events
               stable-sorted by timestamp (ties keep input order), columns named by flags
movielens      MovieLens ``u.data`` (user, item, rating, timestamp; tab-separated, no header)
lastfm         Last.fm HetRec 2011 ``user_taggedartists.dat``: one event per (user, artist, date),
               see :func:`read_lastfm_tagged`

The event readers can also yield each document's timestamps (``with_times=True``: a third
element, float64 sort keys, one per event) so that ``lla prepare`` can count tied events.
"""

import bz2
import csv
import gzip
import json
import lzma
import re
from pathlib import Path

import numpy as np

from ..errors import InputError, ParameterError

FORMATS = ("text", "wikiextractor", "wikitext", "jsonl", "events", "movielens", "lastfm")
EVENT_FORMATS = ("events", "movielens", "lastfm")
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def open_binary(path):
    """Open ``path`` for reading bytes, decompressing by suffix.  One-line error if missing."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", path)
    if path.is_dir():
        raise InputError("is a directory, expected a file", path)
    opener = _OPENERS.get(path.suffix.lower(), open)
    return opener(path, "rb")


def iter_lines(path):
    """Yield ``(line_number, text)`` for every line of ``path`` (newline stripped)."""
    with open_binary(path) as f:
        try:
            for lineno, raw in enumerate(f, 1):
                try:
                    yield lineno, raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    raise InputError("not valid UTF-8", path, lineno) from None
        except (OSError, EOFError, lzma.LZMAError) as e:
            if isinstance(e, InputError):
                raise
            raise InputError(f"cannot read compressed data ({e})", path) from None


def _stem(path):
    name = Path(path).name
    for suffix in _OPENERS:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


# -- text formats ------------------------------------------------------------------------------
def read_text(path, tokenize):
    """One document per non-blank line; doc id = ``file:line``."""
    stem = _stem(path)
    for lineno, line in iter_lines(path):
        if line.strip():
            yield f"{stem}:{lineno}", tokenize(line)


_DOC_OPEN = re.compile(r'^<doc\b[^>]*>\s*$')
_TITLE = re.compile(r'\btitle="([^"]*)"')


def read_wikiextractor(path, tokenize):
    """WikiExtractor output: text between ``<doc ...>`` and ``</doc>`` minus its first line."""
    inside, first, title, lines, start = False, False, None, [], None
    for lineno, line in iter_lines(path):
        if not inside:
            if _DOC_OPEN.match(line):
                m = _TITLE.search(line)
                inside, first, lines, start = True, True, [], lineno
                title = m.group(1) if m else f"{_stem(path)}:{lineno}"
            elif line.strip():
                raise InputError("text outside a <doc ...> block (not a WikiExtractor file?)",
                                 path, lineno)
            continue
        if line.strip() == "</doc>":
            yield title, tokenize("\n".join(lines))
            inside = False
        elif first:
            first = False  # the title, repeated
        else:
            lines.append(line)
    if inside:
        raise InputError("<doc> block is never closed", path, start)


_TOP_HEADING = re.compile(r"^ ?= (?!=).*[^=] = ?$")


def read_wikitext(path, tokenize):
    """WikiText ``.tokens`` files: a new article at every top-level `` = Title = `` heading
    (``= = Section = =`` headings stay inside the article).  Heading lines are part of the text."""
    title, lines = None, []
    for lineno, line in iter_lines(path):
        if _TOP_HEADING.match(line):
            if title is not None:
                yield title, tokenize("\n".join(lines))
            title, lines = line.strip(" =") or f"{_stem(path)}:{lineno}", [line]
        elif title is None:
            if line.strip():
                raise InputError("text before the first ' = Title = ' heading", path, lineno)
        else:
            lines.append(line)
    if title is not None:
        yield title, tokenize("\n".join(lines))


def read_jsonl(path, tokenize, *, field=None):
    """One JSON object per line with a ``tokens`` list of strings or a ``text`` string (or the
    named ``field``); an optional ``id`` names the document."""
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"not valid JSON ({e.msg})", path, lineno) from None
        if not isinstance(obj, dict):
            raise InputError("expected a JSON object", path, lineno)
        doc_id = str(obj.get("id", f"{_stem(path)}:{lineno}"))
        names = [field] if field else ["tokens", "text"]
        for name in names:
            if name in obj:
                value = obj[name]
                break
        else:
            raise InputError(f"no {' or '.join(repr(n) for n in names)} field", path, lineno)
        if isinstance(value, str):
            yield doc_id, tokenize(value)
        elif isinstance(value, list) and all(isinstance(t, str) for t in value):
            yield doc_id, value
        else:
            raise InputError(f"field {name!r} must be a string or a list of strings", path, lineno)


# -- event logs --------------------------------------------------------------------------------
def _read_table(path, columns, delimiter, has_header):
    """Read the named columns of a CSV/TSV/Parquet file as numpy arrays of strings.

    Returns ``(arrays, lines)``: one array per column, and the int64 array of the file line of
    every row (CSV/TSV), or None for Parquet (rows are then named by their 1-based number).
    """
    path = Path(path)
    name = _stem(path).lower()
    if name.endswith(".parquet"):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise InputError("reading Parquet needs pyarrow: pip install 'lla[parquet]'",
                             path) from None
        if not path.exists():
            raise InputError("no such file", path)
        try:
            schema_names = pq.read_schema(path).names
        except Exception as e:  # pyarrow raises several types for a bad file
            raise InputError(f"not a readable Parquet file ({e})", path) from None
        for c in columns:
            if c not in schema_names:
                raise InputError(f"no column {c!r} (columns: {', '.join(schema_names)})", path)
        table = pq.read_table(path, columns=list(columns))
        return [np.asarray(table.column(c).to_numpy(zero_copy_only=False)) for c in columns], None
    if delimiter is None:
        delimiter = "\t" if ".tsv" in name or name.endswith(".data") else ","
    lines = iter_lines(path)
    if has_header:
        try:
            header_line = next(lines)[1]
        except StopIteration:
            raise InputError("empty file (expected a header line)", path) from None
        header = next(csv.reader([header_line], delimiter=delimiter))
        missing = [c for c in columns if c not in header]
        if missing:
            raise InputError(f"no column {missing[0]!r} (columns: {', '.join(header)})", path, 1)
        index = [header.index(c) for c in columns]
    else:
        try:
            index = [int(c) for c in columns]
        except ValueError:
            raise ParameterError("without a header, columns must be given as 0-based "
                                 "numbers") from None
    values = [[] for _ in columns]
    line_numbers = []
    needed = max(index) + 1
    for lineno, line in lines:
        if not line.strip():
            continue
        row = next(csv.reader([line], delimiter=delimiter))
        if len(row) < needed:
            raise InputError(f"expected at least {needed} fields, found {len(row)}", path, lineno)
        for v, i in zip(values, index):
            v.append(row[i])
        line_numbers.append(lineno)
    return [np.array(v, dtype=object) for v in values], np.array(line_numbers, dtype=np.int64)


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_iso_date(value):
    if not isinstance(value, str) or _is_number(value):  # numpy would read "17" as the year 17
        return False
    try:
        return not np.isnat(np.datetime64(value, "ns"))
    except (TypeError, ValueError):
        return False


def _timestamps_as_sort_keys(values, path, column, lines=None):
    """Sort keys of a timestamp column: numbers as float64, or ISO dates/times as int64
    nanoseconds — never both in one column.  ``lines[i]`` is the file line of row ``i`` (None:
    Parquet, rows named by number).  Errors name the line and the offending value."""
    values = np.asarray(values)

    def bad(i, problem):
        if lines is None:
            return InputError(f"row {i + 1}: column {column!r}: {problem}", path)
        return InputError(f"column {column!r}: {problem}", path, int(lines[i]))

    def first(mask):
        return int(np.flatnonzero(mask)[0])

    if values.dtype.kind == "M":  # typed Parquet timestamps
        if np.isnat(values).any():
            raise bad(first(np.isnat(values)), "missing timestamp")
        return values.astype("datetime64[ns]").astype(np.int64)
    try:
        keys = values.astype(np.float64)
    except (TypeError, ValueError):
        keys = None
    if keys is not None:
        if not np.isfinite(keys).all():
            i = first(~np.isfinite(keys))
            raise bad(i, f"{_show(values[i])} is not a finite number")
        return keys
    # not all numbers: either all ISO dates, or an error naming the first offending value
    is_number = np.fromiter((_is_number(v) for v in values), dtype=bool, count=len(values))
    i = first(~is_number)
    if not _is_iso_date(values[i]):
        raise bad(i, f"{_show(values[i])} is neither a number nor an ISO date/time")
    if is_number.any():
        j = first(is_number)
        where = f"row {j + 1}" if lines is None else f"line {lines[j]}"
        raise bad(i, f"{_show(values[i])} is an ISO date but {where} holds the number "
                     f"{_show(values[j])}: a column must hold numbers or dates, not both")
    try:
        dates = values.astype("datetime64[ns]")
    except (TypeError, ValueError):
        dates = None
    if dates is None or np.isnat(dates).any():
        i = next(k for k, v in enumerate(values) if not _is_iso_date(v))
        raise bad(i, f"{_show(values[i])} is not an ISO date/time")
    return dates.astype(np.int64)


def _show(value):
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= 60 else text[:57] + "...'"


def _user_sequences(users, items, keys, with_times, tie_keys=None):
    """Group events by user (users in order of their first event) and stable-sort each user's
    events by ``keys``; ties are ordered by ``tie_keys`` if given, else keep the order of the
    arrays."""
    users = users.astype(str)
    _, first, user_index = np.unique(users, return_index=True, return_inverse=True)
    rank_of_user = np.empty(len(first), np.int64)
    rank_of_user[np.argsort(first, kind="stable")] = np.arange(len(first))
    doc_of_event = rank_of_user[user_index.ravel()]
    sort_keys = (keys, doc_of_event) if tie_keys is None else (tie_keys, keys, doc_of_event)
    order = np.lexsort(sort_keys)  # stable: ties keep the given order
    bounds = np.flatnonzero(np.diff(doc_of_event[order])) + 1
    items = items.astype(str)
    for group in np.split(order, bounds):
        if with_times:
            yield users[group[0]], items[group].tolist(), keys[group]
        else:
            yield users[group[0]], items[group].tolist()


def read_events(path, *, user_column="user", item_column="item", time_column="timestamp",
                delimiter=None, has_header=True, with_times=False):
    """One document per user: the user's items stable-sorted by timestamp (ties keep the
    order of the input file).  Users appear in order of their first event in the file.
    Timestamps are numbers or ISO dates/times; a column mixing both is refused.
    Yields ``(user, items)``, or ``(user, items, sort_keys)`` with ``with_times``."""
    (users, items, times), lines = _read_table(path, [user_column, item_column, time_column],
                                               delimiter, has_header)
    if len(users) == 0:
        return
    keys = _timestamps_as_sort_keys(times, path, time_column, lines)
    yield from _user_sequences(users, items, keys, with_times)


def read_movielens(path, *, with_times=False):
    """MovieLens ``u.data``: ``user<TAB>item<TAB>rating<TAB>timestamp``, no header."""
    return read_events(path, user_column="0", item_column="1", time_column="3",
                       delimiter="\t", has_header=False, with_times=with_times)


LASTFM_TIE_SEED = 0


def read_lastfm_tagged(path, *, with_times=False):
    """Last.fm HetRec 2011 ``user_taggedartists.dat`` (``userID artistID tagID day month
    year``, tab-separated, header): one document per user, one event per (user, artist,
    date).

    * De-duplication: a user who gives an artist several tags on one date made *one* visit to
      the artist (the tags describe it); one event per tag assignment would repeat the artist
      once per tag (e.g. 5 times in a row), and next-item ranking would reward predicting the
      previous item.  Tagging the same artist again on a later date is a new event.
    * Order: by date (year, month, day; in practice month-level, the day is 1 in 98 % of the
      rows).  Events of one date are tied, and the file lists them by ascending artist id, an
      artificial order a sequence model could learn (docs/corpora.md avoids such leaks); ties are
      therefore put in a fixed pseudo-random order (``numpy.random.default_rng(0)`` permutation
      of the deduplicated events), the same on every run.
    """
    (users, artists, days, months, years), _ = _read_table(
        path, ["userID", "artistID", "day", "month", "year"], "\t", True)
    if len(users) == 0:
        return
    try:
        date = (np.asarray(years, np.int64) * 10000 + np.asarray(months, np.int64) * 100
                + np.asarray(days, np.int64))
    except ValueError:
        raise InputError("day/month/year must be integers (not a user_taggedartists.dat "
                         "file?)", path) from None
    users, artists = users.astype(str), artists.astype(str)
    codes = [np.unique(c, return_inverse=True)[1].ravel() for c in (users, artists)]
    _, first = np.unique(np.stack(codes + [date], axis=1), axis=0, return_index=True)
    keep = np.sort(first)  # first row of every (user, artist, date), in file order
    tie_order = np.random.default_rng(LASTFM_TIE_SEED).permutation(len(keep))
    yield from _user_sequences(users[keep], artists[keep], date[keep].astype(np.float64),
                               with_times, tie_keys=tie_order)


def read_type_names(path):
    """Display names of vocabulary types (items), e.g. film titles for char-LLA's characters.

    Accepted files: MovieLens ``u.item`` (``id|title|...``, Latin-1, recognised by its name),
    two columns ``type<TAB>name`` (``type,name`` for ``.csv``; a first line ``item`` / ``type``
    + ``name`` is a header and skipped), or a table whose header has a ``name`` column and an
    ``id`` / ``item`` / ``type`` column (any further columns ignored; e.g. Last.fm's
    ``artists.dat``).  Returns {type string: name}; one-line errors name the file and line.
    """
    path = Path(path)
    names = {}
    if _stem(path) == "u.item":
        with open_binary(path) as f:
            for lineno, raw in enumerate(f, 1):
                fields = raw.decode("latin-1").rstrip("\r\n").split("|")
                if fields == [""]:
                    continue
                if len(fields) < 2 or not fields[0].strip():
                    raise InputError("expected 'id|title|...'", path, lineno)
                names[fields[0].strip()] = fields[1].strip()
        return names
    delimiter = "," if _stem(path).lower().endswith(".csv") else "\t"
    columns = (0, 1)
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        # tab-separated names may hold quotes (Last.fm: 'Guns N' Roses', '"Weird Al"')
        row = (next(csv.reader([line], delimiter=delimiter)) if delimiter == ","
               else line.split("\t"))
        if lineno == 1:
            header = [c.strip().lower() for c in row]
            key = next((c for c in ("id", "item", "type") if c in header), None)
            if key is not None and "name" in header:
                columns = (header.index(key), header.index("name"))
                width = len(row)
                continue
            width = 2
            if len(row) != 2:
                raise InputError(f"expected 2 columns (type{delimiter!r}name) or a header "
                                 f"with 'id' and 'name' columns, got {len(row)} columns",
                                 path, lineno)
        if len(row) != width:
            raise InputError(f"expected {width} columns, got {len(row)}", path, lineno)
        name = row[columns[1]].strip()
        if not name:
            raise InputError("empty name", path, lineno)
        names[row[columns[0]].strip()] = name
    if not names:
        raise InputError("no names found", path)
    return names


def read_documents(path, fmt, tokenize, **options):
    """Dispatch to the reader of ``fmt``; yields ``(doc_id, list_of_token_strings)``, and for
    the event formats with ``with_times=True`` a third element, the events' sort keys."""
    if fmt == "text":
        return read_text(path, tokenize)
    if fmt == "wikiextractor":
        return read_wikiextractor(path, tokenize)
    if fmt == "wikitext":
        return read_wikitext(path, tokenize)
    if fmt == "jsonl":
        return read_jsonl(path, tokenize, field=options.get("field"))
    with_times = options.get("with_times", False)
    if fmt == "events":
        return read_events(path, user_column=options.get("user_column", "user"),
                           item_column=options.get("item_column", "item"),
                           time_column=options.get("time_column", "timestamp"),
                           delimiter=options.get("delimiter"),
                           has_header=options.get("has_header", True), with_times=with_times)
    if fmt == "movielens":
        return read_movielens(path, with_times=with_times)
    if fmt == "lastfm":
        return read_lastfm_tagged(path, with_times=with_times)
    raise ParameterError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "EVENT_FORMATS", "read_documents", "read_lastfm_tagged", "read_text", "read_wikiextractor", "read_wikitext",
           "read_jsonl", "read_events", "read_movielens", "read_type_names", "iter_lines",
           "open_binary"]
