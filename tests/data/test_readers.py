import bz2
import gzip
import lzma

import pytest

from lla import InputError
from lla.data.readers import read_documents
from lla.data.tokenize import make_tokenizer

WORDS = make_tokenizer("words")
SPACE = make_tokenizer("whitespace", lowercase=False)


def _write(path, text, opener=open):
    with opener(path, "wb") as f:
        f.write(text.encode("utf-8"))
    return path


@pytest.mark.parametrize("suffix,opener", [("", open), (".gz", gzip.open), (".bz2", bz2.open),
                                           (".xz", lzma.open)])
def test_text_one_document_per_line_any_compression(tmp_path, suffix, opener):
    p = _write(tmp_path / f"docs.txt{suffix}", "Hello, World!\n\n  \nÉté 2015 x_y\n", opener)
    docs = list(read_documents(p, "text", WORDS))
    assert docs == [("docs.txt:1", ["hello", "world"]), ("docs.txt:4", ["été", "2015", "x_y"])]


def test_wikiextractor_drops_title_line(tmp_path):
    text = ('<doc id="1" url="u" title="Anarchism">\nAnarchism\n\nAnarchism is a philosophy.\n'
            '</doc>\n<doc id="2" url="u2" title="B b">\nB b\nSecond one.\n</doc>\n')
    docs = list(read_documents(_write(tmp_path / "w.txt", text), "wikiextractor", WORDS))
    assert docs == [("Anarchism", ["anarchism", "is", "a", "philosophy"]),
                    ("B b", ["second", "one"])]


def test_wikiextractor_errors(tmp_path):
    p = _write(tmp_path / "w.txt", '<doc id="1" title="A">\nA\ntext\n')
    with pytest.raises(InputError, match=r"w.txt:1: <doc> block is never closed"):
        list(read_documents(p, "wikiextractor", WORDS))
    p = _write(tmp_path / "x.txt", 'hello\n')
    with pytest.raises(InputError, match=r"x.txt:1: text outside"):
        list(read_documents(p, "wikiextractor", WORDS))


def test_wikitext_splits_at_top_level_headings(tmp_path):
    text = (" \n = Valkyria = \n \n Valkyria is a game . \n = = Gameplay = = \n It plays . \n"
            " = Lobster = \n Homarus <unk> . \n")
    docs = list(read_documents(_write(tmp_path / "wiki.tokens", text), "wikitext", SPACE))
    assert [d[0] for d in docs] == ["Valkyria", "Lobster"]
    assert docs[0][1] == ["=", "Valkyria", "=", "Valkyria", "is", "a", "game", ".", "=", "=",
                          "Gameplay", "=", "=", "It", "plays", "."]
    assert docs[1][1] == ["=", "Lobster", "=", "Homarus", "<unk>", "."]


def test_jsonl_tokens_text_and_ids(tmp_path):
    text = '{"tokens": ["A", "b"], "id": 7}\n\n{"text": "Some Text"}\n'
    docs = list(read_documents(_write(tmp_path / "d.jsonl", text), "jsonl", WORDS))
    assert docs == [("7", ["A", "b"]), ("d.jsonl:3", ["some", "text"])]


@pytest.mark.parametrize("line,problem", [
    ("{not json", r"d.jsonl:2: not valid JSON"),
    ('{"other": 1}', r"d.jsonl:2: no 'tokens' or 'text' field"),
    ('[1, 2]', r"d.jsonl:2: expected a JSON object"),
    ('{"tokens": [1, 2]}', r"d.jsonl:2: field 'tokens' must be a string or a list of strings"),
])
def test_jsonl_errors_name_file_and_line(tmp_path, line, problem):
    p = _write(tmp_path / "d.jsonl", '{"text": "ok"}\n' + line + "\n")
    with pytest.raises(InputError, match=problem):
        list(read_documents(p, "jsonl", WORDS))


def test_not_utf8_names_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"fine\nalso fine\n\xff\xfe broken\n")
    with pytest.raises(InputError, match=r"bad.txt:3: not valid UTF-8"):
        list(read_documents(p, "text", WORDS))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope.txt: no such file"):
        list(read_documents(tmp_path / "nope.txt", "text", WORDS))


def test_events_csv_stable_sort_with_ties_in_input_order(tmp_path):
    text = ("user,item,timestamp\n"
            "u2,x,5\n"
            "u1,b,10\n"
            "u1,a,10\n"      # tie with b: keeps file order b, a
            "u1,c,3\n"
            "u2,y,1\n")
    docs = list(read_documents(_write(tmp_path / "e.csv", text), "events", WORDS))
    assert docs == [("u2", ["y", "x"]), ("u1", ["c", "b", "a"])]


def test_events_custom_columns_tsv_and_iso_dates(tmp_path):
    text = "who\twhat\twhen\nA\tp\t2016-05-09\nA\tq\t2016-05-01\nB\tr\t2016-01-01T10:00\n"
    docs = list(read_documents(_write(tmp_path / "e.tsv", text), "events", WORDS,
                               user_column="who", item_column="what", time_column="when"))
    assert docs == [("A", ["q", "p"]), ("B", ["r"])]


def test_events_missing_column(tmp_path):
    p = _write(tmp_path / "e.csv", "user,item,time\nu,i,1\n")
    with pytest.raises(InputError, match=r"e.csv:1: no column 'timestamp' \(columns: user, item, time\)"):
        list(read_documents(p, "events", WORDS))


@pytest.mark.parametrize("rows,message", [
    # the bad value and its line, not the first (valid) value
    ("u,a,3\nu,b,1\n\nu,c,yesterday\n",
     r"e.csv:5: column 'timestamp': 'yesterday' is neither a number nor an ISO date/time"),
    ("u,a,2016-05-01\nu,b,2016-13-45\n", r"e.csv:3: column 'timestamp': '2016-13-45' is not an ISO"),
    ("u,a,2016-05-01\nu,b,\n", r"e.csv:3: column 'timestamp': '' is not an ISO date"),
    ("u,a,1\nu,b,nan\n", r"e.csv:3: column 'timestamp': 'nan' is not a finite number"),
    ("u,a,1\nu,b,-inf\n", r"e.csv:3: column 'timestamp': '-inf' is not a finite number"),
    # numbers and ISO dates in one column: refused, naming one of each
    ("u,a,1462060800\nu,b,2016-05-01\n",
     r"e.csv:3: column 'timestamp': '2016-05-01' is an ISO date but line 2 holds the number "
     r"'1462060800': a column must hold numbers or dates, not both"),
    ("u,a,2016-05-01\nv,b,2016-05-02\nu,c,17\n",
     r"e.csv:2: column 'timestamp': '2016-05-01' is an ISO date but line 4 holds the number '17'"),
])
def test_events_bad_timestamp_names_line_and_value(tmp_path, rows, message):
    p = _write(tmp_path / "e.csv", "user,item,timestamp\n" + rows)
    with pytest.raises(InputError, match=message):
        list(read_documents(p, "events", WORDS))


def test_events_numeric_timestamps_are_numbers_not_years(tmp_path):
    # "17" is not the year 17: numbers compare as numbers (5 < 17 < 100)
    p = _write(tmp_path / "e.csv", "user,item,timestamp\nu,a,100\nu,b,17\nu,c,5.5\n")
    assert list(read_documents(p, "events", WORDS)) == [("u", ["c", "b", "a"])]


def test_events_parquet_bad_timestamp_names_the_row(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"user": [1, 1, 1], "item": ["a", "b", "c"],
                             "timestamp": ["2016-05-01", "17", "2016-05-03"]}),
                   tmp_path / "e.parquet")
    with pytest.raises(InputError, match=r"e.parquet: row 1: column 'timestamp': '2016-05-01' is "
                                         r"an ISO date but row 2 holds the number '17'"):
        list(read_documents(tmp_path / "e.parquet", "events", WORDS))
    pq.write_table(pa.table({"user": [1, 1], "item": ["a", "b"],
                             "timestamp": pa.array([5, None], pa.timestamp("s"))}),
                   tmp_path / "t.parquet")
    with pytest.raises(InputError, match=r"t.parquet: row 2: column 'timestamp': missing timestamp"):
        list(read_documents(tmp_path / "t.parquet", "events", WORDS))
    pq.write_table(pa.table({"user": [1, 1], "item": ["a", "b"],
                             "timestamp": pa.array([7, 5], pa.timestamp("s"))}),
                   tmp_path / "ok.parquet")
    assert list(read_documents(tmp_path / "ok.parquet", "events", WORDS)) == [("1", ["b", "a"])]


def test_events_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    table = pa.table({"user": [1, 2, 1, 1], "item": ["a", "b", "c", "d"],
                      "timestamp": [3, 1, 1, 3]})
    pq.write_table(table, tmp_path / "e.parquet")
    docs = list(read_documents(tmp_path / "e.parquet", "events", WORDS))
    assert docs == [("1", ["c", "a", "d"]), ("2", ["b"])]
    with pytest.raises(InputError, match=r"e.parquet: no column 'ts'"):
        list(read_documents(tmp_path / "e.parquet", "events", WORDS, time_column="ts"))


def test_movielens_u_data(tmp_path):
    text = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t10\t4\t881250900\n"
    docs = list(read_documents(_write(tmp_path / "u.data", text), "movielens", WORDS))
    assert docs == [("196", ["10", "242"]), ("186", ["302"])]


def test_movielens_short_row(tmp_path):
    p = _write(tmp_path / "u.data", "1\t2\t3\t4\n1\t2\n")
    with pytest.raises(InputError, match=r"u.data:2: expected at least 4 fields"):
        list(read_documents(p, "movielens", WORDS))


def test_type_names_from_a_table_with_id_and_name_columns(tmp_path):
    from lla.data.readers import read_type_names
    p = _write(tmp_path / "artists.dat", 'id\tname\turl\tpictureURL\n'
                                          '1\t"Weird Al" Yankovic\thttp://a\thttp://b\n'
                                          "2\tGuns N' Roses\thttp://c\t\n")
    assert read_type_names(p) == {"1": '"Weird Al" Yankovic', "2": "Guns N' Roses"}
    p = _write(tmp_path / "bad.dat", "id\tname\turl\n1\tx\n")
    with pytest.raises(InputError, match=r"bad.dat:2: expected 3 columns, got 2"):
        read_type_names(p)
    p = _write(tmp_path / "three.tsv", "1\tx\ty\n")
    with pytest.raises(InputError, match=r"three.tsv:1: expected 2 columns"):
        read_type_names(p)
    assert read_type_names(_write(tmp_path / "two.tsv", "7\tSeven\n8\tEight\n")) == \
        {"7": "Seven", "8": "Eight"}
