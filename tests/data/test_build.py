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


# -- leave-one-out protocol, item names, event presets ----------------------------------------
def _events(tmp_path):
    return _text(tmp_path, "user,item,timestamp\n"
                           "u1,a,1\nu1,b,2\nu2,x,5\nu1,c,2\nu1,d,3\nu1,e,3\n"
                           "u2,y,5\nu2,z,5\nu3,a,1\nu3,q,2\nu4,w,9\n", "log.csv")


def test_loo_prepare_targets_vocab_and_ties(tmp_path):
    c = prepare([_events(tmp_path)], tmp_path / "c", PrepareOptions(format="events",
                                                                     protocol="loo"))
    assert c.protocol == "loo" and c.meta["protocol"] == "loo"
    # u1: a b c | d e (d: validation, e: test, tied with d); u2 (3 events): x y | z (test,
    # tied); u3, u4 (2 and 1 events): training only, as RecBole's sequential models
    assert c.prefix_lengths.tolist() == [3, 2, 2, 1]
    assert sorted(c.vocab.types) == ["<unk>", "a", "b", "c", "q", "w", "x", "y"]
    assert c.vocab.decode(c[0]) == ["a", "b", "c", "<unk>", "<unk>"]
    s = c.meta["statistics"]
    assert (s["n_test_targets"], s["n_unk_test_targets"], s["n_test_targets_tied"]) == (2, 2, 2)
    assert (s["n_validation_targets"], s["n_unk_validation_targets"],
            s["n_validation_targets_tied"]) == (1, 1, 0)
    assert s["n_docs_without_targets"] == 2 and s["n_prefix_tokens"] == 8
    assert c.targets("test").docs.tolist() == [0, 1]
    # the statistics the store recomputes agree with those of prepare
    assert {k: v for k, v in c.statistics().items() if k in s} == \
        {k: s[k] for k in c.statistics()}


def test_prefix60_is_unchanged_by_protocol_option(tmp_path):
    a = prepare([_events(tmp_path)], tmp_path / "a", PrepareOptions(format="events"))
    assert a.protocol == "prefix60" and a.meta["format_version"] == 1
    assert "n_test_targets" not in a.meta["statistics"]
    assert a.prefix_lengths.tolist() == [3, 1, 1, 0]


def test_bad_protocol(tmp_path):
    with pytest.raises(ParameterError, match="--protocol: unknown protocol 'x'"):
        prepare([_events(tmp_path)], tmp_path / "c", PrepareOptions(format="events",
                                                                   protocol="x"))


def test_item_names_stored_with_corpus(tmp_path):
    names = _text(tmp_path, "item\tname\na\tApple\nzz\tnot in the data\nd\tDate\nx\tXigua\n",
                  "names.tsv")
    c = prepare([_events(tmp_path)], tmp_path / "c", PrepareOptions(format="events",
                                                                     protocol="loo"),
                item_names=names)
    # d occurs only as a target: not in the vocabulary, its name is not kept
    assert c.item_names[c.vocab.id("a")] == "Apple" and c.item_names[c.vocab.id("x")] == "Xigua"
    assert c.item_names[c.vocab.id("b")] is None and c.item_names[0] is None
    assert c.display_names()[c.vocab.id("b")] == "b"
    assert c.meta["item_names"] == {"file": "names.tsv", "source": str(names), "n_named": 2,
                                    "n_unnamed": 5, "n_names_not_in_vocabulary": 2}
    assert Corpus.open(tmp_path / "c").item_names == c.item_names


def test_movielens_u_item_beside_u_data_and_opt_out(tmp_path):
    data = _text(tmp_path, "1\t50\t3\t100\n1\t20\t3\t101\n1\t70\t3\t102\n", "u.data")
    (tmp_path / "u.item").write_bytes("50|Caf\xe9 (1995)|x\n20|Star Wars (1977)|y\n"
                                      .encode("latin-1"))
    c = prepare([data], tmp_path / "c", preset("movielens"))
    # prefix = 1 of 3 events (item 50): the only type with a name; 20's name is unused
    assert c.display_names() == ["<unk>", "Caf\u00e9 (1995)"]
    assert c.meta["item_names"]["n_names_not_in_vocabulary"] == 1
    c = prepare([data], tmp_path / "d", preset("movielens"), item_names=False)
    assert c.item_names is None and "item_names" not in c.meta


def test_lastfm_reader_dedups_per_date_and_shuffles_ties(tmp_path):
    rows = ["userID\tartistID\ttagID\tday\tmonth\tyear"]
    rows += [f"7\t{a}\t{t}\t1\t5\t2009" for a in range(1, 21) for t in (1, 2)]  # 20 tied
    rows += ["7\t3\t9\t1\t4\t2009", "7\t3\t9\t1\t6\t2010", "5\t99\t1\t1\t1\t2008"]
    p = _text(tmp_path, "\n".join(rows) + "\n", "user_taggedartists.dat")
    from lla.data.readers import read_lastfm_tagged
    docs = list(read_lastfm_tagged(p, with_times=True))
    assert [d[0] for d in docs] == ["7", "5"]  # users in file order
    user, items, times = docs[0]
    # one event per (user, artist, date): 20 in May 2009, artist 3 also in April 2009 and 2010
    assert len(items) == 22 and items[0] == "3" and items[-1] == "3"
    assert sorted(items[1:21], key=int) == [str(a) for a in range(1, 21)]
    assert (np.diff(times) >= 0).all() and times[0] == 20090401
    # ties are not left in the file's ascending artist order, and the order is reproducible
    assert items[1:21] != sorted(items[1:21], key=int)
    assert list(read_lastfm_tagged(p))[0][1] == items


def _lastfm_rows(path):
    rows = [line.rstrip("\n").split("\t") for line in lzma.open(path, "rt")][1:]
    return [(u, a, (int(y), int(m), int(d))) for u, a, _, d, m, y in rows]


def test_lastfm_preset_source_statistics(tmp_path, shared_data):
    folder = shared_data / "lastfm-hetrec-2k"
    path = folder / "user_taggedartists.dat.xz"
    rows = _lastfm_rows(path)
    # SOURCE.md: 186,479 tag assignments by 1,892 users on 12,523 artists; per user mean 98.56,
    # median 20, min 1, max 2,609
    per_user = collections.Counter(u for u, _, _ in rows)
    counts = np.array(list(per_user.values()))
    assert len(rows) == 186479 and len(per_user) == 1892
    assert len({a for _, a, _ in rows}) == 12523
    assert (round(counts.mean(), 2), np.median(counts), counts.min(), counts.max()) == \
        (98.56, 20, 1, 2609)
    c = prepare([path], tmp_path / "lastfm", preset("lastfm", protocol="loo"))
    s = c.meta["statistics"]
    events = {}
    for u, a, date in rows:
        events.setdefault(u, {}).setdefault((a, date), None)
    assert s["n_docs"] == 1892 and s["n_types_seen"] == 12523
    assert s["n_tokens"] == sum(map(len, events.values())) == 85015
    # every user's events are in date order, one per (artist, date)
    lengths = c.doc_lengths
    assert sorted(lengths.tolist()) == sorted(len(e) for e in events.values())
    # artist names from artists.dat: 390 tagged artists have none (SOURCE.md)
    named = {line.split("\t")[0] for line in lzma.open(folder / "artists.dat.xz", "rt")}
    training = {t for t in c.vocab.types[1:]}
    assert c.meta["item_names"]["n_unnamed"] == len(training - named)
    assert len({a for _, a, _ in rows} - named) == 390
    assert c.item_names[c.vocab.id("289")] == "Britney Spears"


def test_diginetica_preset_source_statistics(tmp_path, shared_data):
    path = shared_data / "diginetica-sample" / "sample_train-item-views.csv"
    c = prepare([path], tmp_path / "dg", preset("diginetica", protocol="loo"))
    s, lengths = c.meta["statistics"], c.doc_lengths
    # SOURCE.md: 12,391 clicks, 2,986 sessions, 7,139 items; per session mean 4.15, median 3,
    # max 54; >= 2 clicks 2,053, >= 5 clicks 908
    assert (s["n_tokens"], s["n_docs"], s["n_types_seen"]) == (12391, 2986, 7139)
    assert (round(lengths.mean(), 2), np.median(lengths), lengths.max()) == (4.15, 3, 54)
    assert ((lengths >= 2).sum(), (lengths >= 5).sum()) == (2053, 908)
    assert c.item_names is None
    # sessions in time order (timeframe), independently
    by_session = collections.defaultdict(list)
    for line in open(path).read().splitlines()[1:]:
        session, _, item, timeframe, _ = line.split(";")
        by_session[session].append((int(timeframe), item))
    raw = {k: [i for _, i in sorted(v)] for k, v in by_session.items()}
    for d in (0, 1, 100, 2985):
        tokens = [t for t in c.vocab.decode(c[d])]
        expected = raw[c.doc_ids[d]]
        assert all(t == e or t == "<unk>" for t, e in zip(tokens, expected))
        assert len(tokens) == len(expected)
    # LOO: sessions with 1-2 clicks have no target, with 3 no validation target
    assert s["n_docs_without_targets"] == 2986 - 2053 + 526
    assert s["n_test_targets"] == 2053 - 526 and s["n_test_targets_tied"] == 0


def test_movielens_loo_ties_and_names(tmp_path, shared_data):
    path = shared_data / "ml-100k" / "u.data"
    c = prepare([path], tmp_path / "ml", preset("movielens", protocol="loo"))
    s = c.meta["statistics"]
    by_user = collections.defaultdict(list)
    for line in open(path):
        user, item, _, ts = line.split("\t")
        by_user[user].append((int(ts), item))
    seqs = {u: sorted(ev, key=lambda e: e[0]) for u, ev in by_user.items()}  # stable
    train_items = {i for s_ in seqs.values() for _, i in s_[:-2]}
    assert s["vocab_size"] == len(train_items) + 1 == 1679
    assert s["n_prefix_tokens"] == 100000 - 2 * 943
    assert s["n_test_targets"] == s["n_validation_targets"] == 943
    assert s["n_test_targets_tied"] == sum(q[-1][0] == q[-2][0] for q in seqs.values())
    assert s["n_validation_targets_tied"] == sum(q[-2][0] == q[-3][0] for q in seqs.values())
    assert (s["n_test_targets_tied"], s["n_validation_targets_tied"]) == (415, 422)
    assert s["n_unk_test_targets"] + s["n_unk_validation_targets"] == s["n_unk_suffix"] == 4
    assert c.meta["item_names"]["n_named"] == 1678
    assert c.item_names[c.vocab.id("50")] == "Star Wars (1977)"
