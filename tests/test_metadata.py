"""lla._metadata: the one bounded, validating reader of model.json and meta.json."""

import json
import os

import pytest

from lla import InputError
from lla._metadata import (_nesting_depth, check_format_version, check_known_keys,
                           object_field, read_bounded, read_json_document)


def _read(path, **kw):
    return read_json_document(path, kind="lla-model", format_version=1,
                              description="a saved lla model", **kw)


def _write(path, doc):
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


GOOD = {"kind": "lla-model", "format_version": 1, "params": {}}


def test_reads_a_good_document(tmp_path):
    assert _read(_write(tmp_path / "model.json", GOOD)) == GOOD


@pytest.mark.parametrize("content,message", [
    ("{broken", r"corrupt model.json \(Expecting property name"),
    ("[1, 2]", r"not a saved lla model \(kind is not 'lla-model'\)"),
    ({"kind": "lla-corpus", "format_version": 1}, "not a saved lla model"),
    ({**GOOD, "format_version": "1"}, "format_version must be an integer, got '1'"),
    ({**GOOD, "format_version": -1}, "format_version must be >= 1, got -1"),
    ({**GOOD, "format_version": 0}, "format_version must be >= 1, got 0"),
    ({**GOOD, "format_version": True}, "format_version must be an integer, got True"),
    ({**GOOD, "format_version": 1.0}, "format_version must be an integer, got 1.0"),
    ({**GOOD, "format_version": 2}, r"format version 2 is newer than this lla understands \(1\)"),
    ({"kind": "lla-model"}, "format_version must be an integer, got None"),
])
def test_bad_documents_are_one_line(tmp_path, content, message):
    path = _write(tmp_path / "model.json", content)
    with pytest.raises(InputError, match=message) as e:
        _read(path)
    assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)


def test_missing_file_is_reported_against_the_folder(tmp_path):
    with pytest.raises(InputError, match=r"not a saved lla model \(model.json missing\)") as e:
        _read(tmp_path / "model.json")
    assert e.value.path == str(tmp_path)


def test_not_utf8(tmp_path):
    (tmp_path / "model.json").write_bytes(b'{"kind": "\xff"}')
    with pytest.raises(InputError, match=r"not UTF-8 at byte 10"):
        _read(tmp_path / "model.json")


def test_deep_nesting_is_refused_without_recursion(tmp_path):
    n = 200_000
    path = _write(tmp_path / "model.json", '{"params": ' + "[" * n + "]" * n + "}")
    with pytest.raises(InputError, match=f"nested {n + 1} levels deep, more than 64"):
        _read(path)


@pytest.mark.parametrize("text,depth", [
    ("{}", 1), ("[[[]]]", 3), ("", 0), ('"[[["', 0),
    ('{"a": "]]}[[{", "b": [1]}', 2), ('{"a": "\\"[[["}', 1), ('{"a": "\\\\", "b": [[]]}', 3),
])
def test_nesting_depth_ignores_brackets_in_strings(text, depth):
    assert _nesting_depth(text.encode()) == depth


def test_size_bound(tmp_path):
    path = _write(tmp_path / "model.json", {**GOOD, "pad": "x" * 2000})
    with pytest.raises(InputError, match="larger than 1,000 bytes"):
        _read(path, max_bytes=1000)
    assert _read(path, max_bytes=10_000)["pad"] == "x" * 2000


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_link_to_a_device_is_refused_without_reading_it(tmp_path):
    (tmp_path / "model.json").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="model.json: not a regular file"):
        _read(tmp_path / "model.json")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "model.json")
    with pytest.raises(InputError, match="not a regular file"):
        read_bounded(tmp_path / "model.json")


def test_object_field_and_known_keys(tmp_path):
    doc = {"params": [1], "state": {"a": 1}}
    with pytest.raises(InputError, match=r"'params' must be a JSON object, got list \[1\]"):
        object_field(doc, "params", tmp_path)
    assert object_field(doc, "state", tmp_path) == {"a": 1}
    assert object_field({}, "state", tmp_path) == {}
    with pytest.raises(InputError, match=r"unknown parameter 'n_topicz' \(known: alpha, n_topics\)"):
        check_known_keys({"n_topicz": 3}, ["n_topics", "alpha"], "parameter", tmp_path)
    check_known_keys({"n_topics": 3}, ["n_topics", "alpha"], "parameter", tmp_path)


def test_check_format_version_accepts_the_range(tmp_path):
    assert [check_format_version(v, 3, tmp_path) for v in (1, 2, 3)] == [1, 2, 3]
