"""The manifest files: reading, validating, canonical writing and appending.

A manifest is written canonically: UTF-8, two-space indent, keys in schema order,
entries sorted by name and then SemVer precedence, one trailing newline. Equal
content therefore always gives equal bytes, and a diff shows only what changed.

Validating an entry with the pydantic models of ``entries`` costs about 10 µs, and
importing them about 0.1 s, so this module avoids both where it can: it imports
``entries`` only to validate or build an entry object, ``from_validated_bytes``
reads bytes that passed ``parse`` before without validating them again, and a
manifest whose canonical bytes are known adds an entry by inserting the entry's
canonical text into them instead of serializing every entry again.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, overload

import orjson

from gitreg import jsonread
from gitreg.errors import ManifestError, RejectedError
from gitreg.versions import precedence_key

if TYPE_CHECKING:
    from pydantic import ValidationError

    from gitreg.entries import Entry

Kind = Literal["model", "dataset"]
KINDS: tuple[Kind, ...] = ("model", "dataset")

MANIFEST_FORMAT_VERSION = "1.0.0"
SCHEMA_REFERENCE = "http://json-schema.org/draft-07/schema#"

MANIFEST_PATHS: dict[Kind, str] = {
    "model": "models/registry/releases.json",
    "dataset": "datasets/catalog.json",
}
ENTRY_KEYS: dict[Kind, str] = {"model": "models", "dataset": "datasets"}
SCHEMA_FILES: dict[Kind, str] = {
    "model": "releases.schema.json",
    "dataset": "catalog.schema.json",
}

# Both the reference platform and GitHub's release assets cap a manifest at 10 MB.
MAX_MANIFEST_BYTES = 10 * 1000 * 1000

# In canonical text each entry starts with a line holding only "    {", and nothing
# else does: nested objects open after a key, and JSON strings cannot hold a raw
# newline. The entry array and the document close with _DOCUMENT_END.
_ENTRY_START = b"\n    {\n"
_DOCUMENT_END = b"\n  ]\n}\n"
# The name and version lines of each entry in canonical text. Validated names and
# versions never need JSON escapes, so the quoted text is the value itself.
_NAME_AND_VERSION = re.compile(rb'\n      "name": "([^"\\]*)",\n      "version": "([^"\\]*)",\n')


def entry_class(kind: Kind) -> type[Entry]:
    """Return the pydantic model of one kind of entry, importing pydantic on first use."""
    from gitreg.entries import DatasetEntry, ModelEntry

    return ModelEntry if kind == "model" else DatasetEntry


def __getattr__(name: str) -> Any:
    # ENTRY_CLASSES is built on first access so that importing this module stays cheap.
    if name == "ENTRY_CLASSES":
        return {kind: entry_class(kind) for kind in KINDS}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sort_key(entry: Entry) -> tuple[str, Any]:
    return (entry.name, precedence_key(entry.version))


def _document_key(document: dict[str, Any]) -> tuple[str, Any]:
    return (document["name"], precedence_key(document["version"]))


def _entry_starts(data: bytes) -> list[int]:
    """Return the offset of each entry's opening brace in canonical bytes."""
    starts = []
    position = data.find(_ENTRY_START)
    while position != -1:
        starts.append(position + 1)
        position = data.find(_ENTRY_START, position + 1)
    return starts


class EntryList(Sequence["Entry"]):
    """The entries of a manifest in canonical order, built as ``Entry`` objects on first read.

    Each entry is held as a validated ``Entry``, as a plain dict, or only as its
    text inside canonical manifest bytes that passed validation before. An entry
    read from a dict or from that text is validated on its own when it is read.
    """

    def __init__(
        self,
        kind: Kind,
        objects: list[Entry | None],
        *,
        documents: list[dict[str, Any]] | None = None,
        canonical: bytes | None = None,
    ) -> None:
        # Every entry is in ``objects``, in ``documents`` or in ``canonical``.
        self._kind = kind
        self._objects = objects
        self._documents = documents
        self._canonical = canonical
        self._starts: list[int] | None = None

    @classmethod
    def of_entries(cls, kind: Kind, entries: Iterable[Entry]) -> EntryList:
        return cls(kind, list(entries))

    @classmethod
    def of_canonical(cls, kind: Kind, data: bytes, count: int) -> EntryList:
        return cls(kind, [None] * count, canonical=data)

    def __len__(self) -> int:
        return len(self._objects)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Entry, ...]: ...

    def __getitem__(self, index: int | slice) -> Entry | tuple[Entry, ...]:
        if isinstance(index, slice):
            return tuple(self[position] for position in range(*index.indices(len(self))))
        entry = self._objects[index]
        if entry is None:
            entry = entry_class(self._kind).model_validate(self.document(index))
            self._objects[index] = entry
        return entry

    def __iter__(self) -> Iterator[Entry]:
        for position in range(len(self)):
            yield self[position]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EntryList | tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"EntryList({len(self)} {self._kind} entries)"

    def document(self, index: int) -> dict[str, Any]:
        """Return one entry as a plain dict in canonical key order."""
        if self._documents is not None:
            return self._documents[index]
        if self._canonical is not None:
            found: dict[str, Any] = orjson.loads(self._entry_texts()[index])
            return found
        return self[index].to_json_dict()

    def _entry_texts(self) -> list[bytes]:
        """Return the canonical text of each entry, sliced out of the canonical bytes."""
        assert self._canonical is not None
        data = self._canonical
        if self._starts is None:
            self._starts = _entry_starts(data)
        ends = [start - 2 for start in self._starts[1:]] + [len(data) - len(_DOCUMENT_END)]
        return [data[start:end] for start, end in zip(self._starts, ends, strict=True)]

    def documents(self) -> list[dict[str, Any]]:
        """Return every entry as a plain dict in canonical key order."""
        if self._documents is None:
            if self._canonical is not None:
                self._documents = orjson.loads(self._canonical)[ENTRY_KEYS[self._kind]]
            else:
                self._documents = [
                    entry.to_json_dict() for entry in self._objects if entry is not None
                ]
        assert self._documents is not None
        return self._documents

    def text(self) -> bytes | None:
        """Return the canonical text of all entries, joined by ",\\n", where it is known."""
        if self._canonical is None or not self._objects:
            return None
        start = self._canonical.find(_ENTRY_START) + 1
        return self._canonical[start : len(self._canonical) - len(_DOCUMENT_END)]

    def keys(self) -> list[tuple[str, Any]]:
        """Return the sort key of every entry, without building entry objects."""
        if self._canonical is not None and self._documents is None:
            pairs = _NAME_AND_VERSION.findall(self._canonical)
            if len(pairs) == len(self):
                return [(name.decode(), precedence_key(number.decode())) for name, number in pairs]
        if self._documents is None and self._complete():
            return [sort_key(entry) for entry in self._objects if entry is not None]
        return [_document_key(document) for document in self.documents()]

    def _complete(self) -> bool:
        return all(entry is not None for entry in self._objects)

    def inserted(self, index: int, entry: Entry, *, canonical: bytes | None) -> EntryList:
        """Return a new list with ``entry`` at ``index``.

        ``canonical`` is the canonical bytes of the new list's manifest, where known.
        """
        objects = [*self._objects[:index], entry, *self._objects[index:]]
        if canonical is not None:
            return EntryList(self._kind, objects, canonical=canonical)
        documents = None
        if not self._complete():
            old = self.documents()
            documents = [*old[:index], entry.to_json_dict(), *old[index:]]
        return EntryList(self._kind, objects, documents=documents)


@dataclass(frozen=True)
class Manifest:
    """The parsed content of one manifest file."""

    kind: Kind
    updated_at: str
    entries: Sequence[Entry] = ()
    schema_ref: str = SCHEMA_REFERENCE
    version: str = MANIFEST_FORMAT_VERSION
    _keys: list[tuple[str, Any]] = field(default_factory=list, compare=False, repr=False)
    # The canonical bytes of exactly this content, where they are already known.
    _canonical: bytes | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.entries, EntryList):
            object.__setattr__(self, "entries", EntryList.of_entries(self.kind, self.entries))
        if not self._keys:
            self._keys.extend(self.entry_list.keys())

    @property
    def entry_list(self) -> EntryList:
        """The entries, with access to their plain dicts and canonical text."""
        assert isinstance(self.entries, EntryList)
        return self.entries

    @property
    def path(self) -> str:
        return MANIFEST_PATHS[self.kind]

    def position(self, name: str, version: str) -> int | None:
        """Return the index of the entry whose name and version have equal precedence."""
        key = (name, precedence_key(version))
        index = bisect.bisect_left(self._keys, key)
        if index < len(self._keys) and self._keys[index] == key:
            return index
        return None

    def positions_of(self, name: str) -> range:
        """Return the indexes of every version of ``name``, lowest precedence first."""
        start = bisect.bisect_left(self._keys, (name,))
        stop = start
        while stop < len(self._keys) and self._keys[stop][0] == name:
            stop += 1
        return range(start, stop)

    def case_variant(self, name: str) -> str | None:
        """Return an existing name that equals ``name`` except for case, if any."""
        if self.positions_of(name):
            return None
        folded = name.casefold()
        return next((key[0] for key in self._keys if key[0].casefold() == folded), None)

    def find(self, name: str, version: str) -> Entry | None:
        """Return the entry whose name and version have equal precedence, if any."""
        index = self.position(name, version)
        return None if index is None else self.entries[index]

    def versions_of(self, name: str) -> tuple[Entry, ...]:
        """Return every version of ``name``, lowest precedence first."""
        positions = self.positions_of(name)
        return self.entry_list[positions.start : positions.stop]

    def with_entry(self, entry: Entry, *, updated_at: str) -> Manifest:
        """Return a new manifest with ``entry`` inserted in canonical order.

        Raises:
            RejectedError: an entry with the same name and version precedence exists.
        """
        existing = self.find(entry.name, entry.version)
        if existing is not None:
            same = ""
            if existing.version != entry.version:
                same = f", and {entry.version} has the same precedence"
            raise RejectedError(
                f"{entry.kind} '{entry.name}' version {existing.version} already exists{same}",
                hint="published entries are immutable; publish a higher version such as "
                f"{_next_patch(existing.version)}",
            )
        key = sort_key(entry)
        index = bisect.bisect_left(self._keys, key)
        header = {**_header(self), "updated_at": updated_at}
        spliced = None
        if self._canonical is not None and self._keys:
            spliced = _splice(self._canonical, len(self._keys), index, entry, header)
        return replace(
            self,
            entries=self.entry_list.inserted(index, entry, canonical=spliced),
            updated_at=updated_at,
            _keys=[*self._keys[:index], key, *self._keys[index:]],
            _canonical=spliced,
        )


def _next_patch(version: str) -> str:
    major, minor, patch, *_ = precedence_key(version)
    return f"{major}.{minor}.{patch + 1}"


def empty_manifest(kind: Kind, *, updated_at: str) -> Manifest:
    return Manifest(kind=kind, updated_at=updated_at)


def _header(manifest: Manifest) -> dict[str, Any]:
    return {
        "$schema": manifest.schema_ref,
        "version": manifest.version,
        "updated_at": manifest.updated_at,
    }


def to_json_dict(manifest: Manifest) -> dict[str, Any]:
    return {**_header(manifest), ENTRY_KEYS[manifest.kind]: manifest.entry_list.documents()}


def serialize(manifest: Manifest) -> bytes:
    """Return the canonical bytes of ``manifest``."""
    if manifest._canonical is not None:
        return manifest._canonical
    return orjson.dumps(to_json_dict(manifest), option=orjson.OPT_INDENT_2) + b"\n"


def entry_text(entry: Entry) -> bytes:
    """Return the canonical text of one entry as it stands inside a manifest."""
    wrapped = orjson.dumps({"e": [entry.to_json_dict()]}, option=orjson.OPT_INDENT_2)
    return wrapped[len(b'{\n  "e": [\n') : -len(b"\n  ]\n}")]


def _head_text(kind: Kind, header: dict[str, Any]) -> bytes:
    """Return the canonical text before the first entry of a manifest with this header."""
    framed = orjson.dumps({**header, ENTRY_KEYS[kind]: [0]}, option=orjson.OPT_INDENT_2)
    return framed[: framed.rindex(b"\n    0\n") + 1]


def _splice(
    old: bytes, count: int, index: int, entry: Entry, header: dict[str, Any]
) -> bytes | None:
    """Return ``old`` with ``entry`` inserted at ``index`` and the header replaced.

    ``old`` must be the canonical bytes of a manifest with ``count`` entries. The
    result equals ``serialize`` of the new manifest computed from scratch, which
    the tests check. Returns None where ``old`` does not have the expected layout,
    so that the caller serializes in full.
    """
    starts = _entry_starts(old)
    if len(starts) != count or not old.endswith(_DOCUMENT_END):
        return None
    body_end = len(old) - len(_DOCUMENT_END) + 1
    if index < count:
        before, after = old[starts[0] : starts[index]], old[starts[index] : body_end]
        body = [before, entry_text(entry), b",\n", after]
    else:
        body = [old[starts[0] : body_end - 1], b",\n", entry_text(entry), b"\n"]
    return b"".join([_head_text(entry.kind, header), *body, old[body_end:]])


def _validation_error(error: ValidationError, text: str, source: str) -> ManifestError:
    first = error.errors()[0]
    path = tuple(first["loc"])
    # pydantic appends the union branch or the key role to the path; keep real parts.
    while path and locate_safe(text, path) is None:
        path = path[:-1]
    position = locate_safe(text, path) or (1, 1)
    count = error.error_count()
    more = f" (and {count - 1} more problems)" if count > 1 else ""
    return ManifestError(
        f"{source}:{position[0]}:{position[1]}: {jsonread.format_path(path)}: {first['msg']}{more}",
        hint="fix the entry by hand or restore the file with 'git checkout -- FILE'",
    )


def locate_safe(text: str, path: tuple[Any, ...]) -> tuple[int, int] | None:
    return jsonread.locate(text, path)


def _check_unique(manifest: Manifest, source: str) -> None:
    pairs = itertools.pairwise(enumerate(manifest._keys))
    for (_, previous_key), (index, current_key) in pairs:
        if previous_key == current_key:
            previous, current = manifest.entries[index - 1], manifest.entries[index]
            raise ManifestError(
                f"{source}: {current.kind} '{current.name}' has two entries for version "
                f"{previous.version} and {current.version}",
                hint="each name and version may appear once; remove the entry added by hand",
            )


def parse(data: bytes, *, kind: Kind, source: str) -> Manifest:
    """Parse and validate manifest bytes.

    Raises:
        ManifestError: the bytes are over the size limit, not UTF-8 JSON, do not
            match the schema, or repeat a name and version. The message names
            ``source`` and, where it applies, the line and column.
    """
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            f"{source}: manifest exceeds 10 MB ({len(data):,} bytes)",
            hint="archive old entries into another file or split the registry by client",
        )
    # A UTF-8 byte order mark is allowed (editors add one), but orjson rejects it.
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # orjson reports byte offsets only; the strict reader gives line and column.
        jsonread.loads(jsonread.decode(data, source=source), source=source)
        # Valid JSON that orjson still rejects: a lone surrogate such as "\ud800"
        # (not encodable as UTF-8) or nesting deeper than orjson's limit.
        raise ManifestError(
            f"{source}: unsupported JSON: {exc}",
            hint="remove unpaired surrogate escapes and deep nesting from the file",
        ) from None
    manifest = _build(document, kind=kind, data=data, source=source)
    canonical = serialize(manifest) == data
    if not canonical:
        # Non-canonical text may hide a duplicate key that orjson silently dropped.
        jsonread.loads(jsonread.decode(data, source=source), source=source)
    _check_unique(manifest, source)
    return replace(manifest, _canonical=data) if canonical else manifest


def is_canonical(manifest: Manifest) -> bool:
    """Return whether ``manifest`` was read from, or spliced into, its canonical bytes."""
    return manifest._canonical is not None


def from_validated_bytes(data: bytes, *, kind: Kind) -> Manifest:
    """Build a manifest from canonical bytes that passed ``parse`` before.

    Nothing is validated here, so ``data`` must come from a source that proves it
    passed ``parse``, such as ``manifest_cache``. Entries are validated one at a
    time when they are read as ``Entry`` objects.
    """
    first = data.find(_ENTRY_START)
    if first == -1:
        document = orjson.loads(data)
        count = 0
    else:
        # Decode only the header: the text up to the entry array, with the array closed.
        document = orjson.loads(data[: first + 1] + b"]}")
        count = data.count(_ENTRY_START)
    return Manifest(
        kind=kind,
        updated_at=document["updated_at"],
        entries=EntryList.of_canonical(kind, data, count),
        schema_ref=document["$schema"],
        version=document["version"],
        _canonical=data,
    )


def _build(document: Any, *, kind: Kind, data: bytes, source: str) -> Manifest:
    from pydantic import ValidationError

    from gitreg.entries import manifest_document_class

    try:
        validated = manifest_document_class(kind).model_validate(document)
    except ValidationError as exc:
        text = jsonread.decode(data, source=source)
        raise _validation_error(exc, text, source) from None
    entries: tuple[Entry, ...] = getattr(validated, ENTRY_KEYS[kind])
    return Manifest(
        kind=kind,
        updated_at=validated.updated_at,
        entries=tuple(sorted(entries, key=sort_key)),
        schema_ref=validated.schema_ref,
        version=validated.version,
    )


@cache
def load_schema(kind: Kind) -> dict[str, Any]:
    """Return the JSON Schema of a manifest, as shipped inside the package."""
    text = (
        resources.files("gitreg")
        .joinpath("schemas")
        .joinpath(SCHEMA_FILES[kind])
        .read_text("utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    # JSON Schema patterns are ECMA 262 regular expressions: '$' matches only at the
    # very end and '\d' only ASCII digits. Python's '$' also matches before a final
    # newline, so it becomes '\Z'. The schemas use '$' only as an anchor.
    return re.compile(pattern.replace("$", r"\Z"), re.ASCII)


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    import jsonschema

    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator_class() -> Any:
    import jsonschema

    # types-jsonschema leaves extend() unannotated.
    return jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft7Validator, {"pattern": _ecma_pattern}
    )


def schema_problems(document: Any, *, kind: Kind) -> list[tuple[tuple[Any, ...], str]]:
    """Return ``(json_path, message)`` for each place ``document`` breaks the schema."""
    validator = _validator_class()(load_schema(kind))
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path))):
        problems.append((tuple(error.absolute_path), error.message))
    return problems
