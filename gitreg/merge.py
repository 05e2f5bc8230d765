"""Merging two sides of a manifest by entry, for git's merge driver.

Two branches that both published change ``updated_at`` and usually insert entries
next to each other, so git's line merge conflicts on almost every such merge.
Entries are append-only, which makes the merge of two sides simple: the union of
their entries in canonical order, with the later ``updated_at``. The common
ancestor adds nothing to that, because no side may edit or remove what it
contains. The one real conflict is the same name and version with different
content on the two sides; that is left to the user.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal

import orjson

from gitreg.entries import Entry
from gitreg.errors import ManifestError
from gitreg.hooks import describe
from gitreg.manifest import (
    ENTRY_KEYS,
    KINDS,
    MANIFEST_PATHS,
    Kind,
    Manifest,
    empty_manifest,
    parse,
    serialize,
)

CONFLICT_MARKER_SIZE = 7


@dataclass(frozen=True)
class Conflict:
    """The same name and version with different content on the two sides."""

    ours: Entry
    theirs: Entry

    def __str__(self) -> str:
        before, after = self.ours.to_json_dict(), self.theirs.to_json_dict()
        fields = [key for key in before if before[key] != after[key]]
        return f"{describe(self.ours)} differs between the two sides ({', '.join(fields)})"


@dataclass(frozen=True)
class MergeResult:
    """The merged manifest bytes, and the conflicts that need a person."""

    data: bytes
    conflicts: tuple[Conflict, ...]


def detect_kind(*documents: bytes, path: str | None = None) -> Kind:
    """Tell a model registry from a dataset catalog by its entry key or its path.

    Raises:
        ManifestError: neither the documents nor the path identify the manifest.
    """
    for data in documents:
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            continue
        for kind in KINDS:
            if isinstance(document, dict) and ENTRY_KEYS[kind] in document:
                return kind
    for kind in KINDS:
        if path == MANIFEST_PATHS[kind]:
            return kind
    raise ManifestError(
        f"cannot tell whether {path or 'the merged file'} is a model registry or a dataset catalog",
        hint="configure the gitreg merge driver only for the two manifest paths",
    )


def _timestamp_key(value: str) -> tuple[datetime, Decimal]:
    # Fractions of a second have 0 to 9 digits, so the strings do not sort as text.
    whole, _, fraction = value.removesuffix("Z").partition(".")
    moment = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return moment, Decimal(f"0.{fraction or '0'}")


def _read_side(data: bytes, *, kind: Kind, source: str) -> Manifest:
    if not data.strip():
        return empty_manifest(kind, updated_at="1970-01-01T00:00:00Z")
    return parse(data, kind=kind, source=source)


def merge_manifests(ours: bytes, theirs: bytes, *, kind: Kind, path: str) -> MergeResult:
    """Merge two sides of a manifest by entry.

    Raises:
        ManifestError: a side is not a valid manifest (such as one that still has
            conflict markers from an earlier merge).
    """
    mine = _read_side(ours, kind=kind, source=f"{path} (ours)")
    other = _read_side(theirs, kind=kind, source=f"{path} (theirs)")
    merged = mine
    conflicts = []
    for entry in other.entries:
        existing = merged.find(entry.name, entry.version)
        if existing is None:
            merged = merged.with_entry(entry, updated_at=merged.updated_at)
        elif existing != entry:
            conflicts.append(Conflict(ours=existing, theirs=entry))
    latest = max(mine.updated_at, other.updated_at, key=_timestamp_key)
    merged = replace(merged, updated_at=latest)
    data = serialize(merged)
    if conflicts:
        data = _with_conflict_markers(data, conflicts)
    return MergeResult(data=data, conflicts=tuple(conflicts))


def _entry_block(entry: Entry) -> str:
    # orjson indents nested values by two spaces per level, and entries sit two
    # levels deep in a manifest, so this is the entry's text inside the file.
    text = orjson.dumps(entry.to_json_dict(), option=orjson.OPT_INDENT_2).decode("utf-8")
    return "\n".join("    " + line for line in text.splitlines())


def _with_conflict_markers(data: bytes, conflicts: list[Conflict]) -> bytes:
    """Put each conflicting entry between git's conflict markers, ours first."""
    text = data.decode("utf-8")
    for conflict in conflicts:
        block = _entry_block(conflict.ours)
        comma = "," if block + ",\n" in text else ""
        text = text.replace(
            block + comma + "\n",
            f"{'<' * CONFLICT_MARKER_SIZE} ours\n{block}{comma}\n{'=' * CONFLICT_MARKER_SIZE}\n"
            f"{_entry_block(conflict.theirs)}{comma}\n{'>' * CONFLICT_MARKER_SIZE} theirs\n",
            1,
        )
    return text.encode("utf-8")
