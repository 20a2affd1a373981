import collections
import lzma
import re

import numpy as np
import pytest

from lla import Corpus, InputError, ParameterError
from lla.data import build
from lla.data.build import PrepareOptions, prepare, preset


def _text(tmp_path, text, name="docs.txt"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_prepare_text_vocab_from_prefixes_only(tmp_path):
    # prefixes (3 of 5 tokens): [a a b], [b b a]; "c" and "late" occur only in suffixes
    p = _text(tmp_path, "a a b late late\nb b a c late\n")
    c = prepare([p], tmp_path / "c")
    assert c.vocab.types == ["<unk>", "a", "b"]
    assert c.vocab.counts.tolist() == [0, 3, 3]
    assert c[0].tolist() == [1, 1, 2, 0, 0]
    assert c[1].tolist() == [2, 2, 1, 0, 0]
    assert c.meta["statistics"]["n_unk_suffix"] == 4
    assert c.doc_ids == ["docs.txt:1", "docs.txt:2"]


def test_prepare_vocab_counts_exact(tmp_path):
    p = _text(tmp_path, "x y z w v\nx x q r s\n")
    c = prepare([p], tmp_path / "c")
    # prefixes: [x y z], [x x q]
    assert dict(zip(c.vocab.types, c.vocab.counts.tolist())) == {
        "<unk>": 0, "x": 3, "q": 1, "y": 1, "z": 1}
    assert c.vocab.types == ["<unk>", "x", "q", "y", "z"]
    assert c[1].tolist() == [1, 1, 2, 0, 0]


def test_max_vocab_min_count_and_min_doc_tokens(tmp_path):
    p = _text(tmp_path, "a a a b b c d e f g\nshort\n")
    c = prepare([p], tmp_path / "c", PrepareOptions(max_vocab=1, min_doc_tokens=2))
    assert len(c) == 1 and c.vocab.types == ["<unk>", "a"]
    assert c.meta["statistics"]["n_docs_dropped"] == 1
    c = prepare([p], tmp_path / "d", PrepareOptions(min_count=2))
    assert c.vocab.types == ["<unk>", "a", "b"]


def test_several_inputs_are_concatenated(tmp_path):
    a = _text(tmp_path, "one two three\n", "a.txt")
    b = _text(tmp_path, "four five six\n", "b.txt")
    c = prepare([a, b], tmp_path / "c")
    assert len(c) == 2 and c.doc_ids == ["a.txt:1", "b.txt:1"]


def test_remapping_spans_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "_BLOCK", 7)
    rng = np.random.default_rng(0)
    lines = [" ".join(f"t{i}" for i in rng.integers(0, 30, rng.integers(1, 40)))
             for _ in range(50)]
    c = prepare([_text(tmp_path, "\n".join(lines) + "\n")], tmp_path / "c")
    for d, line in enumerate(lines):
        assert c.vocab.decode(c[d]) == [t if t in c.vocab else "<unk>" for t in line.split()]


# -- bad input -------------------------------------------------------------------------------
def test_empty_input(tmp_path):
    with pytest.raises(InputError, match=r"empty.txt: no documents found"):
        prepare([_text(tmp_path, "\n\n", "empty.txt")], tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_zero_documents_after_filtering(tmp_path):
    with pytest.raises(InputError, match=r"no documents left after filtering"):
        prepare([_text(tmp_path, "a b\nc\n")], tmp_path / "c", PrepareOptions(min_doc_tokens=5))


def test_empty_vocabulary(tmp_path):
    with pytest.raises(InputError, match=r"the vocabulary is empty"):
        prepare([_text(tmp_path, "a b c d\n")], tmp_path / "c", PrepareOptions(min_count=9))


def test_output_exists_and_force(tmp_path):
    p = _text(tmp_path, "a b c\n")
    prepare([p], tmp_path / "c")
    with pytest.raises(InputError, match=r"c: already exists \(use --force"):
        prepare([p], tmp_path / "c")
    _text(tmp_path, "x y z w\nq r s t\n")
    prepare([p], tmp_path / "c", force=True)


def test_interrupted_prepare_leaves_existing_corpus_intact(tmp_path):
    good = _text(tmp_path, "a b c d\n", "good.txt")
    prepare([good], tmp_path / "c")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine line\n\xff\n")
    with pytest.raises(InputError, match="not valid UTF-8"):
        prepare([bad], tmp_path / "c", force=True)
    c = Corpus.open(tmp_path / "c")
    assert c.vocab.decode(c[0]) == ["a", "b", "<unk>", "<unk>"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt", "c", "good.txt"]


def test_tab_in_token(tmp_path):
    p = _text(tmp_path, '{"tokens": ["a\\tb", "c", "d"]}\n', "d.jsonl")
    with pytest.raises(InputError, match="contains a tab or newline"):
        prepare([p], tmp_path / "c", PrepareOptions(format="jsonl"))


@pytest.mark.parametrize("kwargs,flag", [({"split_fraction": 1.0}, "--split"),
                                         ({"min_count": 0}, "--min-count"),
                                         ({"max_vocab": 0}, "--max-vocab"),
                                         ({"format": "xml"}, "--format")])
def test_bad_options(tmp_path, kwargs, flag):
    with pytest.raises(ParameterError, match=flag):
        prepare([_text(tmp_path, "a b\n")], tmp_path / "c", PrepareOptions(**kwargs))


# -- presets against an independent few-line implementation -----------------------------------
def _independent_wiki(path):
    docs, cur, inside = [], [], False
    for line in lzma.open(path, "rt", encoding="utf-8"):
        if line.startswith("<doc "):
            inside, cur = True, []
        elif line.strip() == "</doc>":
            toks = re.findall(r"\w+", "\n".join(cur[1:]).lower())
            if len(toks) >= 500:
                docs.append(toks)
            inside = False
        elif inside:
            cur.append(line.rstrip("\n"))
    counts = collections.Counter(t for d in docs for t in d[: int(0.6 * len(d))])
    vocab = set(sorted(counts, key=lambda t: (-counts[t], t))[:20000])
    n_prefix = sum(int(0.6 * len(d)) for d in docs)
    unk_prefix = sum(t not in vocab for d in docs for t in d[: int(0.6 * len(d))])
    return len(docs), sum(map(len, docs)), n_prefix, len(vocab) + 1, unk_prefix


def _independent_movielens(path):
    rows = [line.split("\t") for line in open(path)]
    by_user = collections.defaultdict(list)
    for user, item, _, ts in rows:
        by_user[user].append((int(ts), item))
    seqs = [[i for _, i in sorted(ev, key=lambda e: e[0])] for ev in by_user.values()]
    prefix_items = {i for s in seqs for i in s[: int(0.6 * len(s))]}
    n_prefix = sum(int(0.6 * len(s)) for s in seqs)
    return len(seqs), sum(map(len, seqs)), n_prefix, len(prefix_items) + 1, 0


@pytest.mark.parametrize("name,relpath,independent", [
    ("movielens", "ml-100k/u.data", _independent_movielens),
    ("wiki", "enwiki-2015-wikiextractor/enwiki-AA-00-19.txt.xz", _independent_wiki),
])
@pytest.mark.slow
def test_presets_reproduce_benchmark_statistics(tmp_path, shared_data, name, relpath, independent):
    c = prepare([shared_data / relpath], tmp_path / name, preset(name))
    s = c.meta["statistics"]
    n_docs, n_tokens, n_prefix, vocab_size, unk_prefix = independent(shared_data / relpath)
    assert (s["n_docs"], s["n_tokens"], s["n_prefix_tokens"], s["vocab_size"]) == \
        (n_docs, n_tokens, n_prefix, vocab_size)
    assert s["n_unk_prefix"] == unk_prefix
    assert s["n_suffix_tokens"] == n_tokens - n_prefix
    # and the numbers published in docs/corpora.md
    published = {"wiki": (1008, 3241411, 1944446, 20001), "movielens": (943, 100000, 59619, 1557)}
    assert (s["n_docs"], s["n_tokens"], s["n_prefix_tokens"], s["vocab_size"]) == published[name]


def test_movielens_ties_keep_file_order(tmp_path):
    text = "1\t50\t3\t100\n1\t20\t3\t100\n1\t70\t3\t99\n1\t10\t3\t100\n1\t5\t3\t200\n"
    c = prepare([_text(tmp_path, text, "u.data")], tmp_path / "c", preset("movielens"))
    # sorted: 70 (t=99), then the t=100 tie in file order 50, 20, 10, then 5 (t=200)
    # prefix = 3 tokens [70, 50, 20]; the suffix items 10 and 5 become <unk>
    assert c.vocab.decode(c[0]) == ["70", "50", "20", "<unk>", "<unk>"]
    assert sorted(c.vocab.types) == ["20", "50", "70", "<unk>"]


def test_wiki_sample_preset_ships_with_package(tmp_path):
    from lla.data.build import preset_inputs
    c = prepare(preset_inputs("wiki-sample"), tmp_path / "s", preset("wiki-sample"))
    assert len(c) == 150 and c.doc_lengths.min() >= 500
