"""The checks that the commit hooks run on staged manifests.

Both checks return problems that print as ``FILE:LINE:COLUMN: $.json.path:
message``, the form editors and CI annotations jump to. They never raise for a
bad manifest, so that a hook can report every problem it finds in one run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from gitreg import jsonread
from gitreg.entries import Entry
from gitreg.errors import ManifestError, UsageError
from gitreg.manifest import ENTRY_KEYS, Kind, parse, schema_problems
from gitreg.names import name_problem
from gitreg.versions import parse_version, precedence_key


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a manifest, with where it is."""

    source: str
    message: str
    position: tuple[int, int] | None = None
    json_path: jsonread.JsonPath | None = None

    def __str__(self) -> str:
        where = self.source
        if self.position is not None:
            where += f":{self.position[0]}:{self.position[1]}"
        if self.json_path is not None:
            where += f": {jsonread.format_path(self.json_path)}"
        return f"{where}: {self.message}"


def describe(entry: Entry) -> str:
    """Name an entry the way messages do: ``model 'forecast' 1.0.0``."""
    return f"{entry.kind} '{entry.name}' {entry.version}"


def _explain(document: Any, path: jsonread.JsonPath, message: str) -> str:
    """Replace a schema's pattern message with the reason, for versions and names."""
    if len(path) != 3 or path[2] not in ("version", "name"):
        return message
    value = document[path[0]][path[1]][path[2]]
    if not isinstance(value, str):
        return message
    if path[2] == "version":
        try:
            parse_version(value)
        except UsageError as exc:
            return str(exc)
        return message  # pragma: no cover - the schema's SemVer pattern agrees with semver
    problem = name_problem(value)
    return message if problem is None else f"name '{value}' is not valid: {problem}"


def _from_error(error: ManifestError, source: str) -> Problem:
    """Split a ``FILE:LINE:COLUMN: message`` error of the manifest reader into its parts."""
    match = re.match(rf"{re.escape(source)}:(\d+):(\d+): (.*)", error.message, re.DOTALL)
    if match is None:
        return Problem(source, error.message.removeprefix(f"{source}: "))
    return Problem(source, match.group(3), (int(match.group(1)), int(match.group(2))))


def _duplicate_problems(document: Any, text: str, *, kind: Kind, source: str) -> list[Problem]:
    seen: dict[tuple[str, Any], str] = {}
    problems = []
    for index, item in enumerate(document[ENTRY_KEYS[kind]]):
        key = (item["name"], precedence_key(item["version"]))
        if key in seen:
            path: jsonread.JsonPath = (ENTRY_KEYS[kind], index, "version")
            problems.append(
                Problem(
                    source,
                    f"{kind} '{item['name']}' version {item['version']} duplicates version "
                    f"{seen[key]} (each name and version may appear once)",
                    jsonread.locate(text, path),
                    path,
                )
            )
        else:
            seen[key] = item["version"]
    return problems


def validate(data: bytes, *, kind: Kind, source: str) -> list[Problem]:
    """Check manifest bytes against the JSON Schema, SemVer and uniqueness rules."""
    try:
        text = jsonread.decode(data, source=source)
        document = jsonread.loads(text, source=source)
    except ManifestError as exc:
        return [_from_error(exc, source)]
    problems = [
        Problem(source, _explain(document, path, message), jsonread.locate(text, path), path)
        for path, message in schema_problems(document, kind=kind)
    ]
    if problems:
        return problems
    problems = _duplicate_problems(document, text, kind=kind, source=source)
    if problems:
        return problems
    try:
        parse(data, kind=kind, source=source)
    except ManifestError as exc:
        # Rules the schema cannot state, such as ref-safe names and the size limit.
        return [_from_error(exc, source)]
    return []


def _changed_fields(old: Entry, new: Entry) -> list[str]:
    before, after = old.to_json_dict(), new.to_json_dict()
    return [key for key in before if before[key] != after.get(key)]


def _entry_paths(text: str, kind: Kind) -> dict[tuple[str, Any], jsonread.JsonPath]:
    """Map each entry's name and precedence to its JSON path in the file as written."""
    items = orjson.loads(text)[ENTRY_KEYS[kind]]
    return {
        (item["name"], precedence_key(item["version"])): (ENTRY_KEYS[kind], index)
        for index, item in enumerate(items)
    }


def append_only(
    published: bytes | None, staged: bytes | None, *, kind: Kind, source: str
) -> list[Problem]:
    """Return a problem for each published entry that the staged manifest removed or edited.

    ``published`` is the manifest at HEAD (None before it existed) and ``staged``
    the one about to be committed (None where the file is being deleted).
    """
    if published is None:
        return []
    try:
        before = parse(published, kind=kind, source=f"{source} at HEAD")
    except ManifestError:
        # NOTE: a commit may repair a manifest that is broken at HEAD. Without a
        # readable HEAD there is nothing to compare, so only validate applies.
        return []
    text = ""
    after = None
    if staged is not None:
        try:
            after = parse(staged, kind=kind, source=source)
        except ManifestError as exc:
            return [Problem(source, f"cannot compare with HEAD: {exc.message}")]
        text = staged.decode("utf-8-sig")
    paths = _entry_paths(text, kind) if after is not None else {}
    problems = []
    for entry in before.entries:
        now = None if after is None else after.find(entry.name, entry.version)
        if now is None:
            problems.append(
                Problem(source, f"{describe(entry)} was removed; published entries are append-only")
            )
            continue
        changed = _changed_fields(entry, now)
        if changed:
            path = paths[(now.name, precedence_key(now.version))]
            problems.append(
                Problem(
                    source,
                    f"{describe(entry)} was edited ({', '.join(changed)} changed); "
                    "published entries are append-only, so publish a new version instead",
                    jsonread.locate(text, path),
                    path,
                )
            )
    return problems
