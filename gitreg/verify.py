"""Verification of the registry's current state: manifests, artifacts and tags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from gitreg import hashing, journal, paths
from gitreg.entries import Entry
from gitreg.errors import GitregError, ManifestError
from gitreg.gitrepo import Repository
from gitreg.manifest import KINDS, MANIFEST_PATHS, MAX_MANIFEST_BYTES, Kind, Manifest, parse
from gitreg.manifest import schema_problems as manifest_schema_problems


@dataclass
class Check:
    """One verification check and the problems it found."""

    name: str
    description: str
    failures: list[str] = field(default_factory=list)
    skipped: bool = False

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class VerifyReport:
    """The result of ``verify``: every check, with counts of what was looked at."""

    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    models_checked: int = 0
    datasets_checked: int = 0
    artifacts_hashed: int = 0
    commits_walked: int = 0
    registry_commits: int = 0
    signatures_checked: int = 0
    # Manifest changes that the history walk parsed and compared entry by entry.
    manifests_compared: int = 0

    @property
    def valid(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def errors(self) -> list[str]:
        return [failure for check in self.checks for failure in check.failures]

    def check(self, name: str, description: str) -> Check:
        found = Check(name=name, description=description)
        self.checks.append(found)
        return found


def _read_manifest(repo: Repository, kind: Kind, check: Check) -> Manifest | None:
    path = MANIFEST_PATHS[kind]
    file = repo.workdir / path
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) > MAX_MANIFEST_BYTES:
        check.failures.append(f"{path}: manifest exceeds 10 MB ({len(data):,} bytes)")
        return None
    try:
        manifest = parse(data, kind=kind, source=path)
    except ManifestError as exc:
        check.failures.append(str(exc))
        return None
    for json_path, message in manifest_schema_problems(orjson.loads(data), kind=kind):
        rendered = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in json_path)
        check.failures.append(f"{path}: {rendered}: {message}")
    return manifest


def _check_artifacts(
    repo: Repository,
    entries: list[Entry],
    check: Check,
    *,
    rehash: bool,
    on_progress: Callable[[int], None] | None,
) -> int:
    to_hash: list[tuple[Entry, str]] = []
    located: dict[str, object] = {}
    for entry in entries:
        for artifact in entry.artifacts:
            try:
                located[artifact] = paths.check_regular_file(artifact, workdir=repo.workdir)
            except GitregError as exc:
                hint = _missing_hint(repo, artifact, exc)
                check.failures.append(f"{entry.tag_name}: {exc.message}{hint}")
                continue
            to_hash.append((entry, artifact))
    if not rehash:
        return 0
    unique = sorted({artifact for _, artifact in to_hash})
    digests = dict(
        zip(
            unique,
            hashing.sha256_files(
                [located[artifact] for artifact in unique],  # type: ignore[misc]
                on_progress=on_progress,
            ),
            strict=True,
        )
    )
    for entry in entries:
        if not all(artifact in digests for artifact in entry.artifacts):
            continue
        actual = hashing.combined_sha256({a: digests[a] for a in entry.artifacts})
        if actual != entry.sha256:
            check.failures.append(
                f"{entry.tag_name}: hash mismatch detected for {', '.join(entry.artifacts)}: "
                f"expected {entry.sha256[:12]}, found {actual[:12]} "
                "(the artifact changed after publishing; publish it as a new version)"
            )
    return len(unique)


def _missing_hint(repo: Repository, artifact: str, exc: GitregError) -> str:
    if not exc.message.startswith("artifact not found"):
        return ""
    if repo.blob_id_at(repo.head_commit(), artifact) is not None:
        return ""  # Deleted from the work tree, not missing from history.
    return (
        " (in a clone, the artifact may never have been committed in the publishing "
        "repository; ask its publisher to commit and push it)"
    )


def _uncommitted_artifacts(repo: Repository, entries: list[Entry]) -> list[str]:
    """Warn about artifacts on disk that HEAD lacks or contains with other content."""
    head = repo.head_commit()
    warnings = []
    for artifact in sorted({a for entry in entries for a in entry.artifacts}):
        try:
            paths.check_regular_file(artifact, workdir=repo.workdir)
        except GitregError:
            continue  # Reported as a failure by _check_artifacts.
        if repo.blob_id_at(head, artifact) is None:
            warnings.append(
                f"artifact {artifact} is not committed at HEAD; commit it so that clones "
                "can verify it"
            )
        elif repo.path_is_dirty(artifact):
            warnings.append(
                f"artifact {artifact} differs from HEAD; commit it so that clones can verify it"
            )
    return warnings


def _check_tags(
    repo: Repository, manifests: dict[Kind, Manifest | None], entries: list[Entry], check: Check
) -> None:
    expected = {entry.tag_name for entry in entries}
    for entry in entries:
        if repo.tag_target(entry.tag_name) is None:
            check.failures.append(
                f"{entry.tag_name}: tag is missing "
                "(fetch tags with 'git fetch --tags', or the registry lost it)"
            )
    for kind in KINDS:
        if manifests[kind] is None and (repo.workdir / MANIFEST_PATHS[kind]).exists():
            continue  # An unreadable manifest is reported once, not as one orphan per tag.
        for tag in repo.tag_names(f"{kind}/"):
            if tag not in expected:
                check.failures.append(f"{tag}: tag has no entry in {MANIFEST_PATHS[kind]}")


def verify_current(
    repo: Repository,
    *,
    rehash: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Check the current state of the registry and return every problem found."""
    report = VerifyReport()
    repository = report.check("repository", "full history and tags are present")
    if repo.is_shallow:
        repository.failures.append(
            "the clone is shallow, so history and tags cannot be verified "
            "(run 'git fetch --unshallow --tags')"
        )
    interrupted = None if repo.is_bare else journal.interrupted_publish(repo)
    if interrupted is not None:
        repository.failures.append(
            f"the {interrupted.subject} was interrupted, so the work tree may be "
            "ahead of HEAD (run 'gitreg repair')"
        )
    manifests_check = report.check(
        "manifests", "manifests parse, match the schemas, are under 10 MB"
    )
    manifests = {kind: _read_manifest(repo, kind, manifests_check) for kind in KINDS}
    entries = [entry for manifest in manifests.values() if manifest for entry in manifest.entries]
    report.models_checked = len(manifests["model"].entries) if manifests["model"] else 0
    report.datasets_checked = len(manifests["dataset"].entries) if manifests["dataset"] else 0
    artifacts = report.check("artifacts", "artifacts exist inside the repository and match sha256")
    artifacts.skipped = not rehash
    if not rehash:
        report.warnings.append("artifact hashes were not checked (--no-hash)")
    report.artifacts_hashed = _check_artifacts(
        repo, entries, artifacts, rehash=rehash, on_progress=on_progress
    )
    if not repo.is_bare:
        report.warnings.extend(_uncommitted_artifacts(repo, entries))
    tags = report.check("tags", "every entry has its tag and every tag its entry")
    _check_tags(repo, manifests, entries, tags)
    return report


def verify_registry(
    repo: Repository,
    *,
    rehash: bool = True,
    since: str | None = None,
    full_history: bool = False,
    on_hash_progress: Callable[[int], None] | None = None,
    on_history_progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Check the current state and the whole history; return every problem found.

    Raises:
        UsageError: ``since`` is not an ancestor of HEAD.
        GitError: ``since`` does not name a commit.
    """
    from gitreg.history import add_history_checks

    report = verify_current(repo, rehash=rehash, on_progress=on_hash_progress)
    head_manifests = _committed_manifests(repo, report)
    add_history_checks(
        repo,
        report,
        head_manifests=head_manifests,
        since=since,
        full_history=full_history,
        on_progress=on_history_progress,
    )
    return report


def _committed_manifests(repo: Repository, report: VerifyReport) -> dict[Kind, Manifest]:
    from gitreg.manifest import empty_manifest

    head = repo.head_commit()
    found: dict[Kind, Manifest] = {}
    for kind in KINDS:
        path = MANIFEST_PATHS[kind]
        data = None if head is None or repo.is_shallow else repo.read_at(head, path)
        found[kind] = empty_manifest(kind, updated_at="1970-01-01T00:00:00Z")
        if data is None:
            continue
        try:
            found[kind] = parse(data, kind=kind, source=f"{path} at HEAD")
        except ManifestError as exc:
            report.check("head-manifests", "the manifests committed at HEAD parse").failures.append(
                str(exc)
            )
    return found
