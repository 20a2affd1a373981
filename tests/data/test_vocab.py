import numpy as np
import pytest

from lla import InputError, Vocabulary


def test_from_counts_orders_by_count_then_string_and_folds_dropped_into_unk():
    v = Vocabulary.from_counts({"b": 3, "a": 3, "c": 5, "d": 1}, max_size=2)
    assert v.types == ["<unk>", "c", "a"]
    assert v.counts.tolist() == [3 + 1, 5, 3]  # b and d folded into <unk>
    assert v.id("c") == 1 and v.id("zzz") == 0
    assert v.encode(["a", "q"]).tolist() == [2, 0]
    assert v.decode([1, 2]) == ["c", "a"]


def test_min_count_and_literal_unk():
    v = Vocabulary.from_counts({"a": 1, "b": 2, "<unk>": 4}, min_count=2)
    assert v.types == ["<unk>", "b"]
    assert v.counts.tolist() == [5, 2]


def test_tsv_round_trip(tmp_path):
    v = Vocabulary.from_counts({"x": 2, "é": 7})
    (tmp_path / "vocab.tsv").write_text(v.to_tsv(), encoding="utf-8")
    assert Vocabulary.read_tsv(tmp_path / "vocab.tsv") == v


def test_bad_tsv_names_file_and_line(tmp_path):
    p = tmp_path / "vocab.tsv"
    p.write_text("0\t<unk>\t1\n1\tfoo\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"vocab.tsv:2: expected"):
        Vocabulary.read_tsv(p)


def test_first_type_must_be_unk():
    with pytest.raises(ValueError):
        Vocabulary(["a", "b"])
    assert np.array_equal(Vocabulary(["<unk>", "a"]).counts, [0, 0])
