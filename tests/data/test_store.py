import json
import time

import numpy as np
import pytest

from lla import Corpus, InputError
from lla.data.store import prefix_lengths


def _corpus():
    docs = [np.arange(1, 11) % 5, np.array([1, 1, 2]), np.array([4])]
    return Corpus.from_documents(docs, 5, doc_ids=["a", "b", "c"])


def test_split_is_floor_of_fraction():
    assert prefix_lengths([10, 3, 1, 5, 7], 0.6).tolist() == [6, 1, 0, 3, 4]
    c = _corpus()
    assert c.prefix_lengths.tolist() == [6, 1, 0]
    assert c.n_prefix_tokens == 7 and c.n_suffix_tokens == 7
    assert c.prefix(0).tolist() == [1, 2, 3, 4, 0, 1]
    assert c.suffix(0).tolist() == [2, 3, 4, 0]
    assert c.suffix(2).tolist() == [4]
    assert c[1].tolist() == [1, 1, 2] and c[-1].tolist() == [4]
    assert c.prefix_mask().sum() == 7


def test_prefix_counts_count_only_prefixes():
    c = _corpus()
    expected = np.bincount(np.concatenate([c.prefix(d) for d in range(len(c))]), minlength=5)
    assert c.prefix_counts().tolist() == expected.tolist()


def test_save_open_round_trip_is_memory_mapped(tmp_path):
    c = _corpus()
    c.save(tmp_path / "c")
    d = Corpus.open(tmp_path / "c")
    assert isinstance(d.tokens, np.memmap) and d.tokens.dtype == np.int32
    assert len(d) == 3 and d.n_tokens == c.n_tokens and d.doc_ids == ["a", "b", "c"]
    assert all(np.array_equal(c[i], d[i]) for i in range(3))
    assert d.vocab == c.vocab
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    assert meta["format_version"] == 1 and meta["statistics"]["n_prefix_tokens"] == 7


def test_statistics_blocks_agree_with_whole_array():
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 50, rng.integers(1, 300)) for _ in range(200)]
    c = Corpus.from_documents(docs, 50)
    mask = c.prefix_mask()
    stats = c.statistics()
    blocks = list(c._blocks(block_tokens=1000))
    assert blocks[0][0] == 0 and blocks[-1][1] == len(c)
    assert stats["n_unk_prefix"] == int(((c.tokens == 0) & mask).sum())
    assert stats["n_unk_suffix"] == int(((c.tokens == 0) & ~mask).sum())
    counts = np.zeros(50, np.int64)
    for d, e in c._blocks(block_tokens=1000):
        block = c.tokens[c.offsets[d]:c.offsets[e]]
        counts += np.bincount(block[c._block_prefix_mask(d, e)], minlength=50)
    assert np.array_equal(counts, np.bincount(c.tokens[mask], minlength=50))


def test_subset_and_prefix_corpus():
    c = _corpus()
    s = c.subset([2, 0])
    assert s[0].tolist() == [4] and s.doc_ids == ["c", "a"]
    p = c.prefix_corpus()
    assert p[0].tolist() == c.prefix(0).tolist() and len(p[2]) == 0


def test_open_errors(tmp_path):
    with pytest.raises(InputError, match="no such directory"):
        Corpus.open(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="meta.json missing"):
        Corpus.open(tmp_path / "empty")
    _corpus().save(tmp_path / "c")
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    meta["format_version"] = 99
    (tmp_path / "c" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="newer than this lla"):
        Corpus.open(tmp_path / "c")


def test_save_refuses_to_overwrite_without_force(tmp_path):
    c = _corpus()
    c.save(tmp_path / "c")
    with pytest.raises(InputError, match="already exists"):
        c.save(tmp_path / "c")
    c.subset([0]).save(tmp_path / "c", force=True)
    assert len(Corpus.open(tmp_path / "c")) == 1


def test_open_is_constant_time(tmp_path):
    # 20M tokens: opening must not read them (memory map); generous bound, not a benchmark
    n = 20_000_000
    tokens = np.lib.format.open_memmap(tmp_path / "t.npy", mode="w+", dtype=np.int32, shape=(n,))
    tokens[:] = 1
    del tokens
    c = Corpus(np.load(tmp_path / "t.npy", mmap_mode="r"), np.array([0, n // 2, n], np.int64),
               _corpus().vocab)
    c.save(tmp_path / "big")
    start = time.perf_counter()
    d = Corpus.open(tmp_path / "big")
    assert time.perf_counter() - start < 0.5
    assert d.n_tokens == n and isinstance(d.tokens, np.memmap)


def test_batching_buckets_by_length():
    from lla.data.batching import length_buckets, pad_batch
    rng = np.random.default_rng(1)
    docs = [rng.integers(1, 9, n) for n in rng.integers(1, 100, 57)]
    c = Corpus.from_documents(docs, 10)
    batches = list(length_buckets(c, batch_size=8, part="prefix", rng=np.random.default_rng(0)))
    seen = np.sort(np.concatenate(batches))
    assert seen.tolist() == [d for d in range(len(c)) if c.prefix_lengths[d] > 0]
    assert all(len(b) <= 8 for b in batches)
    # within a bucket the lengths are close: sorted windows of the length order
    spread = [np.ptp(c.prefix_lengths[b]) for b in batches]
    assert np.mean(spread) < np.ptp(c.prefix_lengths) / 3
    ids, lengths = pad_batch(c, batches[0], part="prefix", pad=-1)
    assert ids.shape == (len(batches[0]), lengths.max())
    for row, d in enumerate(batches[0]):
        assert ids[row, :lengths[row]].tolist() == c.prefix(d).tolist()
        assert (ids[row, lengths[row]:] == -1).all()


def test_open_checks_the_store_against_its_recorded_statistics(tmp_path):
    """O(1): a truncated vocab.tsv would otherwise let token ids run past V unnoticed."""
    _corpus().save(tmp_path / "c")
    lines = (tmp_path / "c" / "vocab.tsv").read_text().splitlines(keepends=True)
    (tmp_path / "c" / "vocab.tsv").write_text("".join(lines[:3]))
    with pytest.raises(InputError, match=r"vocab.tsv holds 3 entries but meta.json records "
                                         r"vocab_size = 5 \(corrupt store\)"):
        Corpus.open(tmp_path / "c")


def test_open_refuses_doc_ids_that_are_not_utf8(tmp_path):
    _corpus().save(tmp_path / "c")
    (tmp_path / "c" / "doc_ids.txt").write_bytes(b"a\n\xff\n")
    with pytest.raises(InputError, match=r"doc_ids.txt: not valid UTF-8 \(byte 2\)"):
        Corpus.open(tmp_path / "c")


# -- protocols and item names ------------------------------------------------------------------
def _loo_corpus():
    docs = [np.array([1, 2, 3, 4, 1]), np.array([2, 3]), np.array([4, 4, 2])]
    return Corpus.from_documents(docs, 5, doc_ids=["a", "b", "c"], protocol="loo")


def test_loo_corpus_prefixes_targets_and_statistics():
    c = _loo_corpus()
    assert c.protocol == "loo"
    assert c.prefix_lengths.tolist() == [3, 2, 2]
    assert c.prefix(0).tolist() == [1, 2, 3] and c.suffix(0).tolist() == [4, 1]
    test, val = c.targets("test"), c.targets("validation")
    assert test.docs.tolist() == [0, 2] and test.positions.tolist() == [4, 2]
    assert val.docs.tolist() == [0] and val.positions.tolist() == [3]
    # the evaluator ranks corpus[d][p] given the whole history corpus[d][:p]
    assert [c[d][p] for d, p in zip(*test)] == [1, 2]
    assert c[0][:test.positions[0]].tolist() == [1, 2, 3, 4]
    stats = c.statistics()
    assert (stats["n_prefix_tokens"], stats["n_test_targets"], stats["n_validation_targets"]) \
        == (7, 2, 1)
    assert stats["n_unk_test_targets"] == 0
    # the vocabulary counts come from the training events only
    assert c.vocab.counts.tolist() == [0, 1, 2, 2, 2]


def test_loo_round_trip_and_format_version(tmp_path):
    c = _loo_corpus()
    c.save(tmp_path / "c")
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    assert meta["protocol"] == "loo" and meta["format_version"] == 2
    d = Corpus.open(tmp_path / "c")
    assert d.protocol == "loo" and d.prefix_lengths.tolist() == [3, 2, 2]
    assert d.subset([2, 0]).protocol == "loo" and d.prefix_corpus().protocol == "loo"
    # prefix60 corpora keep the format version older lla reads
    _corpus().save(tmp_path / "p")
    meta = json.loads((tmp_path / "p" / "meta.json").read_text())
    assert meta["protocol"] == "prefix60" and meta["format_version"] == 1
    assert Corpus.open(tmp_path / "p").protocol == "prefix60"
    # a corpus written before protocols existed opens as prefix60
    del meta["protocol"]
    (tmp_path / "p" / "meta.json").write_text(json.dumps(meta))
    assert Corpus.open(tmp_path / "p").protocol == "prefix60"
    meta["protocol"] = "kfold"
    (tmp_path / "p" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="unknown protocol 'kfold'"):
        Corpus.open(tmp_path / "p")


def test_item_names_round_trip(tmp_path):
    docs = [np.array([1, 2, 3, 4, 1])]
    names = [None, "one", None, "three", "four\u00e9"]
    c = Corpus.from_documents(docs, 5, item_names=names)
    assert c.display_names() == ["<unk>", "one", "w2", "three", "four\u00e9"]
    c.save(tmp_path / "c")
    assert (tmp_path / "c" / "names.tsv").exists()
    d = Corpus.open(tmp_path / "c")
    assert d.item_names == names
    assert d.subset([0]).item_names == names
    assert json.loads((tmp_path / "c" / "meta.json").read_text())["item_names"]["file"] \
        == "names.tsv"
    _corpus().save(tmp_path / "plain")
    assert Corpus.open(tmp_path / "plain").item_names is None
    assert not (tmp_path / "plain" / "names.tsv").exists()
    with pytest.raises(ValueError, match="one entry per vocabulary type"):
        Corpus.from_documents(docs, 5, item_names=["x"])
