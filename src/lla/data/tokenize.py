"""Tokenisers: text -> list of token strings.

``words``      every maximal run of Unicode word characters (Python ``re`` ``\\w+``) is a token
               (the ``wiki`` benchmark's rule, docs/corpora.md);
``whitespace`` tokens are split on whitespace (pre-tokenised text such as WikiText).
Both optionally lower-case first.
"""

import re

from ..errors import ParameterError

_WORD = re.compile(r"\w+")
TOKENIZERS = ("words", "whitespace")


def make_tokenizer(kind="words", lowercase=True):
    """Return a function ``str -> list[str]``."""
    if kind == "words":
        findall = _WORD.findall
        return (lambda text: findall(text.lower())) if lowercase else findall
    if kind == "whitespace":
        return (lambda text: text.lower().split()) if lowercase else str.split
    raise ParameterError(f"unknown tokenizer {kind!r}; choose one of {', '.join(TOKENIZERS)}")
