"""Strict JSON reading with file, line and column in every error.

Python's ``json`` accepts NaN, Infinity and duplicate keys, none of which are valid
JSON (RFC 8259 leaves duplicate names undefined). Registry files must mean one thing
to every reader, so all three are rejected here with the position of the offending
token. A UTF-8 byte order mark is accepted and ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from gitreg.errors import ManifestError

JsonPath = tuple[str | int, ...]

# I-JSON (RFC 7493, section 2.2): integers beyond 2**53 - 1 in magnitude lose
# precision in readers that use IEEE doubles, and orjson cannot write them at all.
MAX_JSON_INTEGER = 2**53 - 1

_UTF8_BOM = b"\xef\xbb\xbf"
_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([{}\[\]:,])|([^\s{}\[\]:,"]+))', re.DOTALL)
_NON_FINITE = {"NaN", "Infinity", "-Infinity"}
# The lines git writes around the two sides of a conflicted hunk.
_CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7}|\|{7})(?: |$)", re.MULTILINE)


class _DuplicateKey(Exception):
    pass


class _NonFinite(Exception):
    pass


def line_column(text: str, offset: int) -> tuple[int, int]:
    """Return the 1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def format_path(path: JsonPath) -> str:
    """Render a JSON path as ``$.models[3].version``."""
    rendered = "$"
    for part in path:
        rendered += f"[{part}]" if isinstance(part, int) else f".{part}"
    return rendered


def decode(data: bytes, *, source: str) -> str:
    """Decode UTF-8 bytes, dropping a leading byte order mark.

    Raises:
        ManifestError: the bytes are not valid UTF-8.
    """
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        valid = data[: exc.start].decode("utf-8")
        line, column = line_column(valid, len(valid))
        raise ManifestError(
            f"{source}:{line}:{column}: invalid UTF-8 byte 0x{data[exc.start]:02x}",
            hint="save the file as UTF-8",
        ) from exc


def iter_value_offsets(text: str) -> Iterator[tuple[JsonPath, int, bool]]:
    """Yield ``(path, offset, is_key)`` for every value and object key in ``text``.

    ``text`` must already be known to be syntactically valid JSON. Keys are yielded
    with the path of the value they name.
    """
    stack: list[list[Any]] = []  # [container, key or index, expecting a key]
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            return
        position = match.end()
        start = match.start(match.lastindex or 0)
        string, punctuation, _bare = match.groups()
        top = stack[-1] if stack else None
        if string is not None and top is not None and top[0] == "object" and top[2]:
            top[1] = json.loads(string)
            top[2] = False
            yield tuple(frame[1] for frame in stack), start, True
            continue
        if punctuation is None or punctuation in "{[":
            yield tuple(frame[1] for frame in stack), start, False
        if punctuation == "{":
            stack.append(["object", None, True])
        elif punctuation == "[":
            stack.append(["array", 0, False])
        elif punctuation in ("}", "]"):
            stack.pop()
        elif punctuation == "," and top is not None:
            if top[0] == "array":
                top[1] += 1
            else:
                top[2] = True


def locate(text: str, path: JsonPath) -> tuple[int, int] | None:
    """Return the line and column where the value at ``path`` starts, if it exists."""
    for found, offset, is_key in iter_value_offsets(text):
        if found == path and not is_key:
            return line_column(text, offset)
    return None


def _find_duplicate_key(text: str) -> tuple[JsonPath, int]:
    seen: dict[JsonPath, set[str]] = {}
    for path, offset, is_key in iter_value_offsets(text):
        if not is_key:
            seen.pop(path, None)
            continue
        keys = seen.setdefault(path[:-1], set())
        if path[-1] in keys:
            return path, offset
        keys.add(str(path[-1]))
    raise AssertionError("no duplicate key found")  # pragma: no cover


def _find_non_finite(text: str) -> int:
    for match in _TOKEN.finditer(text):
        if match.group(3) in _NON_FINITE:
            return match.start(3)
    raise AssertionError("no non-finite number found")  # pragma: no cover


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def _reject_constant(name: str) -> float:
    raise _NonFinite(name)


def loads(text: str, *, source: str) -> Any:
    """Parse JSON text strictly.

    Raises:
        ManifestError: the text is not JSON, or it contains NaN, Infinity or a
            duplicate key; the message gives ``source:line:column``.
    """
    try:
        return json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        marker = _CONFLICT_MARKER.search(text)
        if marker is not None:
            line, column = line_column(text, marker.start())
            raise ManifestError(
                f"{source}:{line}:{column}: unresolved merge conflict marker "
                f"'{marker.group(1)}'",
                hint="resolve the conflict by keeping the entries of both sides, then commit",
            ) from exc
        raise ManifestError(
            f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}",
            hint="fix the syntax at that position",
        ) from exc
    except _NonFinite as exc:
        line, column = line_column(text, _find_non_finite(text))
        raise ManifestError(
            f"{source}:{line}:{column}: {exc.args[0]} is not a valid JSON number",
            hint="use a finite number or remove the field",
        ) from exc
    except _DuplicateKey as exc:
        path, offset = _find_duplicate_key(text)
        line, column = line_column(text, offset)
        raise ManifestError(
            f"{source}:{line}:{column}: duplicate key '{path[-1]}' in {format_path(path[:-1])}",
            hint="keep one occurrence of each key",
        ) from exc
