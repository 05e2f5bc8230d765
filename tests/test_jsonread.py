"""Strict JSON reading: positions of values, keys and offending tokens."""

from __future__ import annotations

import pytest

from gitreg import jsonread
from gitreg.errors import ManifestError


def test_locate_nested_value() -> None:
    text = '{\n  "a": [1, {"b": true}],\n  "c": "x"\n}\n'
    assert jsonread.locate(text, ("a", 1, "b")) == (2, 18)
    assert jsonread.locate(text, ("c",)) == (3, 8)
    assert jsonread.locate(text, ()) == (1, 1)


def test_locate_missing_path() -> None:
    assert jsonread.locate('{"a": 1}  \n', ("b",)) is None


def test_format_path() -> None:
    assert jsonread.format_path(("models", 3, "version")) == "$.models[3].version"


def test_line_column_after_newlines() -> None:
    assert jsonread.line_column("ab\ncd\nef", 7) == (3, 2)


def test_escaped_key_located() -> None:
    text = '{"a\\"b": 1, "a\\"b": 2}'
    with pytest.raises(ManifestError, match=r":1:13: duplicate key 'a\"b' in \$"):
        jsonread.loads(text, source="f")


def test_nested_duplicate_key() -> None:
    text = '{"x": [{"k": 1}, {"k": 1, "k": 2}]}'
    with pytest.raises(ManifestError, match=r"duplicate key 'k' in \$\.x\[1\]"):
        jsonread.loads(text, source="f")


def test_same_key_in_siblings_allowed() -> None:
    assert jsonread.loads('[{"k": 1}, {"k": 2}]', source="f") == [{"k": 1}, {"k": 2}]


def test_nan_inside_string_ignored() -> None:
    with pytest.raises(ManifestError, match=":1:20: NaN is not a valid JSON number"):
        jsonread.loads('{"s": "NaN", "v": [NaN]}', source="f")
