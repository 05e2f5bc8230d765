"""Registry changes between two revisions, for review in a pull request.

Entries are append-only, so a change is either an added entry or a violation: a
published entry that was removed or edited. Violations come first in every
rendering, because a reviewer must not merge them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitreg.entries import DatasetEntry, Entry, ModelEntry
from gitreg.errors import GitError
from gitreg.gitrepo import Repository
from gitreg.manifest import KINDS, MANIFEST_PATHS, Kind, Manifest, empty_manifest, parse
from gitreg.versions import precedence_key

WORKTREE = "work tree"
_EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class Revision:
    """One side of a diff: a commit, or the work tree (``commit`` None)."""

    label: str
    commit: str | None


@dataclass(frozen=True)
class Violation:
    """A published entry that the newer revision removed or edited."""

    kind: Kind
    name: str
    version: str
    change: str  # "removed" or "edited"
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.kind} '{self.name}' {self.version} was {self.change}"
        return text + (f" ({', '.join(self.fields)} changed)" if self.fields else "")


@dataclass(frozen=True)
class Delta:
    """One metric (or a dataset's row count) beside its value in the previous version."""

    name: str
    previous: float | int | None
    current: float | int | None

    @property
    def change(self) -> float | int | None:
        if self.previous is None or self.current is None:
            return None
        return self.current - self.previous


@dataclass(frozen=True)
class Addition:
    """A new entry, and the version of the same name it follows, if any."""

    entry: Entry
    previous: Entry | None
    deltas: tuple[Delta, ...]


@dataclass(frozen=True)
class RegistryDiff:
    """Everything that changed between two revisions."""

    base: Revision
    head: Revision
    violations: tuple[Violation, ...]
    added: dict[Kind, tuple[Addition, ...]]

    @property
    def empty(self) -> bool:
        return not self.violations and not any(self.added.values())


def default_base(repo: Repository) -> Revision:
    """Return the merge base of HEAD with the default branch.

    Raises:
        GitError: there is no HEAD commit, no default branch, or no common ancestor.
    """
    head = repo.head_commit()
    if head is None:
        raise GitError("the repository has no commits", hint="publish or commit something first")
    found = repo.default_branch()
    if found is None:
        raise GitError(
            "no default branch (origin/HEAD, main or master) to compare with",
            hint="name the base revision: 'gitreg diff BASE'",
        )
    name, commit = found
    base = repo.merge_base(head, commit)
    if base is None:
        raise GitError(
            f"HEAD and {name} have no common ancestor",
            hint="name the base revision: 'gitreg diff BASE'",
        )
    return Revision(label=f"merge base with {name}", commit=base)


def _read(repo: Repository, revision: Revision, kind: Kind) -> Manifest:
    path = MANIFEST_PATHS[kind]
    if revision.commit is None:
        file = repo.workdir / path
        data = file.read_bytes() if file.exists() else None
        source = path
    else:
        data = repo.read_at(revision.commit, path)
        source = f"{path} at {revision.commit[:12]}"
    if data is None:
        return empty_manifest(kind, updated_at=_EPOCH)
    return parse(data, kind=kind, source=source)


def _changed_fields(old: Entry, new: Entry) -> tuple[str, ...]:
    before, after = old.to_json_dict(), new.to_json_dict()
    return tuple(key for key in before if before[key] != after[key])


def _violations(old: Manifest, new: Manifest) -> list[Violation]:
    found = []
    for entry in old.entries:
        now = new.find(entry.name, entry.version)
        if now is None:
            found.append(Violation(entry.kind, entry.name, entry.version, "removed"))
        elif now != entry:
            fields = _changed_fields(entry, now)
            found.append(Violation(entry.kind, entry.name, entry.version, "edited", fields))
    return found


def _previous(manifest: Manifest, entry: Entry) -> Entry | None:
    """Return the version of the same name just below ``entry`` in precedence."""
    key = precedence_key(entry.version)
    lower = [e for e in manifest.versions_of(entry.name) if precedence_key(e.version) < key]
    return lower[-1] if lower else None


def _deltas(entry: Entry, previous: Entry | None) -> tuple[Delta, ...]:
    if previous is None:
        return ()
    if isinstance(entry, ModelEntry) and isinstance(previous, ModelEntry):
        names = sorted({*previous.metrics, *entry.metrics})
        return tuple(
            Delta(name, previous.metrics.get(name), entry.metrics.get(name)) for name in names
        )
    if isinstance(entry, DatasetEntry) and isinstance(previous, DatasetEntry):
        return (Delta("row_count", previous.row_count, entry.row_count),)
    return ()  # pragma: no cover - both come from one manifest, so both have one type


def _additions(old: Manifest, new: Manifest) -> tuple[Addition, ...]:
    added = []
    for entry in new.entries:
        if old.find(entry.name, entry.version) is None:
            previous = _previous(new, entry)
            added.append(Addition(entry, previous, _deltas(entry, previous)))
    return tuple(added)


def registry_diff(repo: Repository, base: Revision, head: Revision) -> RegistryDiff:
    """Compare both manifests between two revisions.

    Raises:
        ManifestError: a manifest cannot be read at one of the revisions.
    """
    violations: list[Violation] = []
    added: dict[Kind, tuple[Addition, ...]] = {}
    for kind in KINDS:
        old, new = _read(repo, base, kind), _read(repo, head, kind)
        violations += _violations(old, new)
        added[kind] = _additions(old, new)
    return RegistryDiff(base=base, head=head, violations=tuple(violations), added=added)


# Rendering ---------------------------------------------------------------------


def _number(value: float | int | None) -> str:
    return "-" if value is None else str(value)


def _change(delta: Delta) -> str:
    change = delta.change
    if change is None:
        return "new" if delta.previous is None else "removed"
    text = f"{change:+.6g}"
    if delta.previous:
        text += f" ({change / abs(delta.previous):+.1%})"
    return text


def _cell(value: str | None) -> str:
    return "-" if not value else value.replace("|", "\\|")


def _table(additions: tuple[Addition, ...]) -> list[str]:
    lines = ["| Name | Version | Previous | Client | Release |", "|---|---|---|---|---|"]
    for addition in additions:
        entry = addition.entry
        previous = addition.previous.version if addition.previous else "new"
        lines.append(
            f"| `{entry.name}` | {entry.version} | {previous} | {_cell(entry.client)} "
            f"| {_cell(entry.release_tag)} |"
        )
    return lines


def _comparison(entry: Entry, previous: Entry, deltas: tuple[Delta, ...]) -> list[str]:
    title = "Metric" if entry.kind == "model" else "Field"
    lines = [
        "",
        f"**`{entry.name}` {entry.version}** compared with {previous.version}:",
        "",
        f"| {title} | {previous.version} | {entry.version} | Change |",
        "|---|---:|---:|---:|",
    ]
    for delta in deltas:
        lines.append(
            f"| {delta.name} | {_number(delta.previous)} | {_number(delta.current)} "
            f"| {_change(delta)} |"
        )
    return lines


def _revision(revision: Revision) -> str:
    if revision.commit is None:
        return "the work tree"
    if revision.commit.startswith(revision.label.lower()):
        return f"`{revision.commit[:12]}`"
    return f"`{revision.commit[:12]}` ({revision.label})"


def to_markdown(diff: RegistryDiff) -> str:
    """Render the diff as Markdown for a pull-request comment."""
    lines = [
        "## Registry changes",
        "",
        f"Comparing {_revision(diff.base)} with {_revision(diff.head)}.",
    ]
    if diff.empty:
        return "\n".join([*lines, "", "No registry changes."]) + "\n"
    if diff.violations:
        lines += ["", f"### Violations ({len(diff.violations)})", ""]
        lines.append("Published entries are append-only. Restore these and publish new versions:")
        lines.append("")
        lines += [f"- {violation}" for violation in diff.violations]
    for kind in KINDS:
        additions = diff.added[kind]
        if not additions:
            continue
        lines += ["", f"### {kind.title()}s added ({len(additions)})", "", *_table(additions)]
        for addition in additions:
            if addition.previous is not None and addition.deltas:
                lines += _comparison(addition.entry, addition.previous, addition.deltas)
    return "\n".join(lines) + "\n"


def _addition_json(addition: Addition) -> dict[str, Any]:
    return {
        "entry": addition.entry.to_json_dict(),
        "previous_version": addition.previous.version if addition.previous else None,
        "changes": [
            {
                "name": delta.name,
                "previous": delta.previous,
                "current": delta.current,
                "change": delta.change,
            }
            for delta in addition.deltas
        ],
    }


def to_json(diff: RegistryDiff) -> dict[str, Any]:
    """Return the diff as a JSON-ready dict."""
    return {
        "base": {"label": diff.base.label, "commit": diff.base.commit},
        "head": {"label": diff.head.label, "commit": diff.head.commit},
        "violations": [
            {
                "type": violation.kind,
                "name": violation.name,
                "version": violation.version,
                "change": violation.change,
                "fields": list(violation.fields),
                "message": str(violation),
            }
            for violation in diff.violations
        ],
        "models": [_addition_json(addition) for addition in diff.added["model"]],
        "datasets": [_addition_json(addition) for addition in diff.added["dataset"]],
    }
