import pytest

from lla import InputError
from lla.data.names import display_names, names_for_vocabulary, names_tsv, read_names_tsv
from lla.data.vocab import Vocabulary


def test_alignment_counts_unnamed_and_foreign_names():
    vocab = Vocabulary(["<unk>", "10", "20", "30"])
    names = {"10": "Toy Story", "30": "Heat\tII\n", "99": "never seen", "<unk>": "nope"}
    item_names, summary = names_for_vocabulary(vocab, names)
    assert item_names == [None, "Toy Story", None, "Heat II"]
    assert summary == {"n_named": 2, "n_unnamed": 1, "n_names_not_in_vocabulary": 2}
    assert display_names(vocab, item_names) == ["<unk>", "Toy Story", "20", "Heat II"]
    assert display_names(vocab, None) == ["<unk>", "10", "20", "30"]


def test_names_tsv_round_trip_and_errors(tmp_path):
    item_names = [None, "A b", None, "Ünïcode"]
    p = tmp_path / "names.tsv"
    p.write_text(names_tsv(item_names), encoding="utf-8")
    assert p.read_text(encoding="utf-8") == "1\tA b\n3\tÜnïcode\n"
    assert read_names_tsv(p, 4) == item_names
    with pytest.raises(InputError, match=r"names.tsv:2: type id 3 outside the vocabulary"):
        read_names_tsv(p, 3)
    p.write_text("1\tok\nfoo\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"names.tsv:2: expected 'id<TAB>name'"):
        read_names_tsv(p, 4)
