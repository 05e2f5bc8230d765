"""The manifest files: reading, validating, canonical writing and appending.

A manifest is written canonically: UTF-8, two-space indent, keys in schema order,
entries sorted by name and then SemVer precedence, one trailing newline. Equal
content therefore always gives equal bytes, and a diff shows only what changed.
"""

from __future__ import annotations

import bisect
import itertools
import json
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from gitreg import jsonread
from gitreg.entries import (
    MANIFEST_FORMAT_VERSION,
    SCHEMA_REFERENCE,
    DatasetEntry,
    Entry,
    ModelEntry,
    Timestamp,
)
from gitreg.errors import ManifestError, RejectedError
from gitreg.versions import precedence_key

Kind = Literal["model", "dataset"]
KINDS: tuple[Kind, ...] = ("model", "dataset")

MANIFEST_PATHS: dict[Kind, str] = {
    "model": "models/registry/releases.json",
    "dataset": "datasets/catalog.json",
}
ENTRY_KEYS: dict[Kind, str] = {"model": "models", "dataset": "datasets"}
SCHEMA_FILES: dict[Kind, str] = {
    "model": "releases.schema.json",
    "dataset": "catalog.schema.json",
}
ENTRY_CLASSES: dict[Kind, type[Entry]] = {"model": ModelEntry, "dataset": DatasetEntry}

# Both the reference platform and GitHub's release assets cap a manifest at 10 MB.
MAX_MANIFEST_BYTES = 10 * 1000 * 1000


def sort_key(entry: Entry) -> tuple[str, Any]:
    return (entry.name, precedence_key(entry.version))


@dataclass(frozen=True)
class Manifest:
    """The parsed content of one manifest file."""

    kind: Kind
    updated_at: str
    entries: tuple[Entry, ...] = ()
    schema_ref: str = SCHEMA_REFERENCE
    version: str = MANIFEST_FORMAT_VERSION
    _keys: list[tuple[str, Any]] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self._keys:
            self._keys.extend(sort_key(entry) for entry in self.entries)

    @property
    def path(self) -> str:
        return MANIFEST_PATHS[self.kind]

    def find(self, name: str, version: str) -> Entry | None:
        """Return the entry whose name and version have equal precedence, if any."""
        key = (name, precedence_key(version))
        index = bisect.bisect_left(self._keys, key)
        if index < len(self._keys) and self._keys[index] == key:
            return self.entries[index]
        return None

    def versions_of(self, name: str) -> tuple[Entry, ...]:
        """Return every version of ``name``, lowest precedence first."""
        start = bisect.bisect_left(self._keys, (name,))
        stop = start
        while stop < len(self.entries) and self.entries[stop].name == name:
            stop += 1
        return self.entries[start:stop]

    def with_entry(self, entry: Entry, *, updated_at: str) -> Manifest:
        """Return a new manifest with ``entry`` inserted in canonical order.

        Raises:
            RejectedError: an entry with the same name and version precedence exists.
        """
        existing = self.find(entry.name, entry.version)
        if existing is not None:
            raise RejectedError(
                f"{entry.kind} '{entry.name}' version {existing.version} already exists"
                + (
                    ""
                    if existing.version == entry.version
                    else f" (same precedence as {entry.version})"
                ),
                hint="published entries are immutable; publish a higher version such as "
                f"{_next_patch(existing.version)}",
            )
        key = sort_key(entry)
        index = bisect.bisect_left(self._keys, key)
        entries = (*self.entries[:index], entry, *self.entries[index:])
        keys = [*self._keys[:index], key, *self._keys[index:]]
        return replace(self, entries=entries, updated_at=updated_at, _keys=keys)


def _next_patch(version: str) -> str:
    major, minor, patch, *_ = precedence_key(version)
    return f"{major}.{minor}.{patch + 1}"


def empty_manifest(kind: Kind, *, updated_at: str) -> Manifest:
    return Manifest(kind=kind, updated_at=updated_at)


def to_json_dict(manifest: Manifest) -> dict[str, Any]:
    return {
        "$schema": manifest.schema_ref,
        "version": manifest.version,
        "updated_at": manifest.updated_at,
        ENTRY_KEYS[manifest.kind]: [entry.to_json_dict() for entry in manifest.entries],
    }


def serialize(manifest: Manifest) -> bytes:
    """Return the canonical bytes of ``manifest``."""
    return orjson.dumps(to_json_dict(manifest), option=orjson.OPT_INDENT_2) + b"\n"


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
    if not all(isinstance(part, str | int) for part in path):
        return None
    return jsonread.locate(text, path)


def _check_unique(entries: tuple[Entry, ...], source: str) -> None:
    for previous, current in itertools.pairwise(entries):
        if sort_key(previous) == sort_key(current):
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
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        # orjson reports byte offsets only; the strict reader gives line and column.
        document = jsonread.loads(jsonread.decode(data, source=source), source=source)
    manifest = _build(document, kind=kind, data=data, source=source)
    if serialize(manifest) != data:
        # Non-canonical text may hide a duplicate key that orjson silently dropped.
        jsonread.loads(jsonread.decode(data, source=source), source=source)
    _check_unique(manifest.entries, source)
    return manifest


def _build(document: Any, *, kind: Kind, data: bytes, source: str) -> Manifest:
    try:
        validated = _DOCUMENT_CLASSES[kind].model_validate(document)
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


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_ref: StrictStr = Field(alias="$schema")
    version: Literal["1.0.0"]
    updated_at: Timestamp


class _ModelDocument(_Document):
    models: tuple[ModelEntry, ...]


class _DatasetDocument(_Document):
    datasets: tuple[DatasetEntry, ...]


_DOCUMENT_CLASSES: dict[Kind, type[_Document]] = {
    "model": _ModelDocument,
    "dataset": _DatasetDocument,
}


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


def schema_problems(document: Any, *, kind: Kind) -> list[tuple[tuple[Any, ...], str]]:
    """Return ``(json_path, message)`` for each place ``document`` breaks the schema."""
    import jsonschema

    validator = jsonschema.Draft7Validator(load_schema(kind))
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path))):
        problems.append((tuple(error.absolute_path), error.message))
    return problems
