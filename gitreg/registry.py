"""Registry operations: publishing entries and reading them back."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitreg import datasets, hashing, journal, jsonread, names, paths, signing, trust
from gitreg.errors import GitError, RejectedError, SigningError, UsageError
from gitreg.gitrepo import HeadState, Identity, Repository
from gitreg.lock import DEFAULT_TIMEOUT_SECONDS, writer_lock
from gitreg.manifest import (
    MANIFEST_PATHS,
    MAX_MANIFEST_BYTES,
    Kind,
    Manifest,
    empty_manifest,
    parse,
    serialize,
)
from gitreg.manifest_cache import ManifestCache
from gitreg.metrics import MetricValue, check_metric_range, read_metrics
from gitreg.versions import parse_version

if TYPE_CHECKING:
    # Importing the pydantic models costs about 0.1 s, so reads that do not build
    # entry objects skip it.
    from gitreg.entries import Entry

logger = logging.getLogger(__name__)

MAX_NOTES_LENGTH = 10_000
_VERBS: dict[Kind, str] = {"model": "Publish", "dataset": "Register"}


@dataclass(frozen=True)
class PublishRequest:
    """A publish request with the values given on the command line or in an API body."""

    kind: Kind
    path: str
    version: str
    name: str | None = None
    metrics_path: str | None = None
    rows: int | None = None
    client: str | None = None
    cleanliness: int | None = None
    release: str | None = None
    notes: str | None = None
    # Metric values already read and validated by the caller, such as the HTTP API;
    # used only when ``metrics_path`` is None.
    metrics: Mapping[str, MetricValue] | None = None


@dataclass(frozen=True)
class PublishResult:
    """The entry that was published and where git recorded it."""

    entry: Entry
    commit: str
    tag: str
    signed: bool


def utc_timestamp(epoch: int) -> str:
    """Format seconds since the epoch as RFC 3339 UTC with a ``Z`` suffix."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_fields(request: PublishRequest) -> None:
    parse_version(request.version)
    if request.client is not None:
        names.check_client(request.client)
    if request.cleanliness is not None and not 0 <= request.cleanliness <= 100:
        raise UsageError(
            f"--cleanliness {request.cleanliness} is out of range",
            hint="pass an integer from 0 to 100",
        )
    if request.release is not None and not 0 < len(request.release) <= 255:
        raise UsageError(
            f"--release '{request.release}' must be 1 to 255 characters",
            hint="pass a release tag such as v1.0.0",
        )
    if request.release is not None and not Repository.is_valid_tag_name(request.release):
        raise UsageError(
            f"--release '{request.release}' is not a valid git tag name",
            hint="pass a release tag such as v1.0.0 (no spaces, '..', '~', '^', ':' or '?')",
        )
    if request.rows is not None and request.rows > jsonread.MAX_JSON_INTEGER:
        raise UsageError(
            f"--rows {request.rows} is larger than 2**53 - 1",
            hint="JSON readers cannot hold such a count exactly; check the number",
        )
    if request.notes is not None and len(request.notes) > MAX_NOTES_LENGTH:
        raise UsageError(
            f"--notes is {len(request.notes)} characters long",
            hint=f"keep notes under {MAX_NOTES_LENGTH} characters",
        )


def _default_name(relative: str) -> str:
    return Path(relative).name.split(".", 1)[0] or Path(relative).name


@dataclass(frozen=True)
class _Prepared:
    """Everything about an entry that can be computed before taking the lock."""

    name: str
    relative: str
    sha256: str
    metrics: dict[str, MetricValue]
    rows: int
    schema_hash: str | None


def _prepare(request: PublishRequest, repo: Repository, cwd: Path) -> _Prepared:
    _check_fields(request)
    relative = paths.repository_relative(request.path, workdir=repo.workdir, cwd=cwd)
    if relative in MANIFEST_PATHS.values():
        raise RejectedError(
            f"artifact '{relative}' is a registry manifest, which changes with every publish",
            hint="publish the model or dataset file itself",
        )
    if request.name is not None:
        name = names.check_name(request.name)
    else:
        name = names.check_name(_default_name(relative), default_from=request.path)
    metrics: dict[str, MetricValue] = {}
    if request.metrics_path is not None:
        metrics = read_metrics(cwd / request.metrics_path)
    elif request.metrics is not None:
        metrics = dict(request.metrics)
        for metric, value in metrics.items():
            check_metric_range(metric, value)
    absolute = paths.check_regular_file(relative, workdir=repo.workdir)
    rows = 0
    schema_hash = None
    if request.kind == "dataset":
        facts = datasets.inspect(absolute, relative)
        rows = datasets.reconcile_rows(request.rows, facts, relative)
        schema_hash = facts.schema_hash
    return _Prepared(
        name=name,
        relative=relative,
        sha256=hashing.sha256_file(absolute),
        metrics=metrics,
        rows=rows,
        schema_hash=schema_hash,
    )


def _build_entry(request: PublishRequest, prepared: _Prepared, created_at: str) -> Entry:
    from gitreg.entries import DatasetEntry, ModelEntry

    common = {
        "id": str(uuid.uuid4()),
        "name": prepared.name,
        "version": request.version,
        "created_at": created_at,
        "sha256": prepared.sha256,
        "artifacts": (prepared.relative,),
        "cleanliness_score": request.cleanliness,
        "release_tag": request.release,
        "client": request.client,
        "notes": request.notes,
    }
    if request.kind == "model":
        return ModelEntry.model_validate({**common, "metrics": prepared.metrics})
    return DatasetEntry.model_validate(
        {**common, "row_count": prepared.rows, "schema_hash": prepared.schema_hash}
    )


def signing_config(repo: Repository) -> signing.SigningConfig:
    """Read the signing settings from the git configuration, as git does."""
    fmt = signing.SigningConfig.parse_format(repo.config_value("gpg.format"))
    try:
        identity = repo.identity(time=0)
        committer: str | None = f"{identity.name} <{identity.email}>"
    except GitError:
        committer = None
    return signing.SigningConfig(
        format=fmt,
        key=repo.config_value("user.signingkey"),
        openpgp_program=repo.config_value("gpg.openpgp.program")
        or repo.config_value("gpg.program")
        or "gpg",
        ssh_program=repo.config_value("gpg.ssh.program") or "ssh-keygen",
        x509_program=repo.config_value("gpg.x509.program") or "gpgsm",
        committer=committer,
    )


def signing_requested(repo: Repository, override: bool | None) -> bool:
    """Decide whether to sign: ``--sign/--no-sign`` wins, then the git configuration.

    A publish is one act, so the commit and the tag are signed together when either
    ``commit.gpgSign`` or ``tag.gpgSign`` is true.
    """
    if override is not None:
        return override
    return bool(repo.config_bool("commit.gpgsign") or repo.config_bool("tag.gpgsign"))


SIGNING_SETUP_HINT = (
    "configure signing ('git config gpg.format ssh; git config user.signingkey "
    "~/.ssh/id_ed25519.pub; git config commit.gpgsign true', or 'gitreg init --generate-key')"
)


def has_trust_policy(repo: Repository, commit: str | None) -> bool:
    """Return whether ``commit`` contains trust files that name at least one key."""
    if commit is None:
        return False
    tree = repo.path_ids_at(commit, (trust.TRUST_DIR,))[trust.TRUST_DIR]
    if tree is None:
        return False
    files = {name: repo.read_blob(blob) for name, blob in repo.tree_blobs(tree).items()}
    try:
        policy = trust.policy_from_files(files, source=trust.TRUST_DIR)
    except trust.TrustError:
        # A malformed allowed_signers file is still a policy that verify enforces.
        return True
    return not policy.empty


def resolve_signing(repo: Repository, override: bool | None, *, commit: str | None) -> bool:
    """Return ``signing_requested``, refusing to sign nothing where a trust policy needs it.

    Raises:
        SigningError: the repository has a trust policy, but signing is neither
            configured nor requested; verify would reject the unsigned objects forever.
    """
    do_sign = signing_requested(repo, override)
    if do_sign or override is not None or not has_trust_policy(repo, commit):
        return do_sign
    raise SigningError(
        f"this registry requires signed publishes (it has trust files under {trust.TRUST_DIR}/), "
        "but signing is not configured",
        hint=f"{SIGNING_SETUP_HINT}, or pass --no-sign to publish unsigned on purpose",
    )


def read_head_manifest(
    repo: Repository,
    commit: str | None,
    kind: Kind,
    now: str,
    *,
    cache: ManifestCache | None = None,
) -> Manifest:
    """Return the manifest as committed in ``commit``, or an empty one where it is absent.

    With ``cache``, bytes validated before are not validated again.
    """
    data = repo.read_at(commit, MANIFEST_PATHS[kind])
    if data is None:
        return empty_manifest(kind, updated_at=now)
    source = f"{MANIFEST_PATHS[kind]} at {(commit or '')[:12]}"
    if cache is not None:
        return cache.load(data, kind=kind, source=source)
    return parse(data, kind=kind, source=source)


def _check_worktree(repo: Repository, kind: Kind, commit: str | None) -> None:
    """Reject a publish over uncommitted manifest edits, naming the syntax error if any."""
    path = MANIFEST_PATHS[kind]
    _check_manifest_folders(repo, path, commit)
    if repo.path_is_dirty(path):
        file = repo.workdir / path
        if file.is_file():
            # A broken file (a merge conflict, say) is reported with its line and column.
            parse(file.read_bytes(), kind=kind, source=path)
        raise RejectedError(
            f"{path} has uncommitted changes",
            hint=f"commit them or restore the file with 'git restore --staged --worktree {path}'",
        )


def _check_manifest_folders(repo: Repository, path: str, commit: str | None) -> None:
    """Reject a file or symlink, in HEAD or on disk, where the manifest path needs a folder.

    Committing over such a file would delete it, and writing through a symlink
    could leave the repository.
    """
    parts = path.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/".join(parts[:depth])
        on_disk = repo.workdir / folder
        in_head = repo.blob_id_at(commit, folder) is not None
        if in_head or on_disk.is_symlink() or (on_disk.exists() and not on_disk.is_dir()):
            raise RejectedError(
                f"'{folder}' is a file or symlink, but {path} needs it to be a folder",
                hint=f"rename or remove '{folder}' and commit that first",
            )


def commit_message(entry: Entry, *, verb: str) -> str:
    """Return the commit message: a sentence for people, trailers for machines."""
    return (
        f"{verb} {entry.kind} {entry.name} {entry.version}\n\n"
        f"Registry-Entry-Id: {entry.id}\n"
        f"Registry-Artifact-Sha256: {entry.sha256}\n"
        f"Registry-Entry-Digest: sha256:{entry.digest()}\n"
    )


def tag_message(entry: Entry) -> str:
    """Return the tag message, which carries the digest of the entry it marks."""
    return (
        f"{entry.kind} {entry.name} {entry.version}\n\n"
        f"Registry-Entry-Id: {entry.id}\n"
        f"Registry-Entry-Digest: sha256:{entry.digest()}\n"
    )


def publish(
    request: PublishRequest,
    *,
    cwd: Path,
    sign: bool | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT_SECONDS,
    epoch: int | None = None,
) -> PublishResult:
    """Add one entry: a commit changing only its manifest, and an annotated tag on it.

    Everything that can be rejected is checked before any reference moves, so a
    failure leaves no manifest change, no commit and no tag.

    Raises:
        UsageError: an option value is invalid.
        RejectedError: the entry already exists, the artifact is unusable, or the
            manifest would exceed its size limit.
        GitError: the repository state does not allow a publish.
        SigningError: signing was requested and failed.
        ManifestError: the committed manifest cannot be read.
        LockTimeoutError: another writer held the lock too long.
    """
    repo = Repository.discover(cwd)
    prepared = _prepare(request, repo, cwd)
    with writer_lock(repo.git_dir, timeout=lock_timeout):
        journal.repair(repo)
        return _commit_entry(repo, request, prepared, sign=sign, epoch=epoch)


def _warn_about_artifacts(repo: Repository, entry: Entry, commit: str) -> None:
    """Log each reason a clone could fail to verify the artifacts of ``entry``."""
    for artifact in entry.artifacts:
        if repo.blob_id_at(commit, artifact) is None:
            logger.warning(
                "artifact %s is not committed; commit it (or track it with git LFS) "
                "so that clones can verify it",
                artifact,
            )
        elif repo.path_is_dirty(artifact):
            logger.warning(
                "artifact %s has uncommitted changes, so the sha256 recorded is of the "
                "uncommitted content; commit it so that clones can verify it",
                artifact,
            )
    for artifact in repo.unmarked_text_paths(list(entry.artifacts)):
        logger.warning(
            "artifact %s is not marked -text in .gitattributes, so a clone with "
            "core.autocrlf=true may change its bytes and fail verify; add '%s -text'",
            artifact,
            artifact,
        )


def _commit_entry(
    repo: Repository,
    request: PublishRequest,
    prepared: _Prepared,
    *,
    sign: bool | None,
    epoch: int | None,
) -> PublishResult:
    head = repo.head_state()
    stamp = int(time.time()) if epoch is None else epoch
    identity = repo.identity(time=stamp)
    created_at = utc_timestamp(stamp)
    _check_worktree(repo, request.kind, head.commit)

    cache = ManifestCache(repo.git_dir)
    manifest = read_head_manifest(repo, head.commit, request.kind, created_at, cache=cache)
    names.check_case(prepared.name, manifest.case_variant(prepared.name), kind=request.kind)
    entry = _build_entry(request, prepared, created_at)
    updated = manifest.with_entry(entry, updated_at=created_at)
    data = serialize(updated)

    if len(data) > MAX_MANIFEST_BYTES:
        raise RejectedError(
            f"publishing would push {updated.path} over 10 MB ({len(data):,} bytes)",
            hint="archive old entries into another file or split the registry by client",
        )
    if repo.tag_exists(entry.tag_name):
        raise RejectedError(
            f"tag '{entry.tag_name}' already exists but the manifest has no such entry",
            hint=f"delete the stray tag with 'git tag -d {entry.tag_name}' "
            "or publish another version",
        )

    do_sign = resolve_signing(repo, sign, commit=head.commit)
    config = signing_config(repo) if do_sign else None
    commit, tag_object = _write_objects(repo, head, entry, data, identity, config)
    _move_refs(repo, head, entry, data, commit, tag_object)

    # The old manifest was validated and the new entry too, so the result is valid.
    cache.remember(data, kind=request.kind)

    _warn_about_artifacts(repo, entry, commit)
    logger.info("published %s at %s", entry.tag_name, commit)
    return PublishResult(entry=entry, commit=commit, tag=entry.tag_name, signed=do_sign)


def repair_registry(
    cwd: Path, *, lock_timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> journal.RepairResult | None:
    """Complete or roll back an interrupted publish in the repository at ``cwd``.

    Raises:
        GitError: the repository cannot be opened, or the repair failed.
        LockTimeoutError: another writer held the lock too long.
    """
    repo = Repository.discover(cwd)
    if repo.is_bare:
        return None
    with writer_lock(repo.git_dir, timeout=lock_timeout):
        return journal.repair(repo)


def _move_refs(
    repo: Repository, head: HeadState, entry: Entry, data: bytes, commit: str, tag_object: str
) -> None:
    """Write the manifest to the work tree and the index, then move the branch and tag."""
    path = MANIFEST_PATHS[entry.kind]
    # _write_objects has written the blob. Writing it again would compress the
    # whole manifest a second time, which takes tens of milliseconds at 10,000 entries.
    change = journal.FileChange(path, repo.blob_id_at(head.commit, path), repo.hash_blob(data))
    record = journal.Journal(
        branch=head.branch,
        old_commit=head.commit,
        new_commit=commit,
        tag_name=entry.tag_name,
        tag_object=tag_object,
        files=(change,),
    )
    journal.apply(
        repo,
        record,
        {path: data},
        lambda: repo.advance_branch_and_tag(
            branch=head.branch,
            expected=head.commit,
            commit=commit,
            tag_name=entry.tag_name,
            tag_object=tag_object,
            reflog_message=f"gitreg: {_VERBS[entry.kind].lower()} {entry.tag_name}",
        ),
    )


def _write_objects(
    repo: Repository,
    head: HeadState,
    entry: Entry,
    data: bytes,
    identity: Identity,
    config: signing.SigningConfig | None,
) -> tuple[str, str]:
    blob = repo.write_blob(data)
    tree = repo.tree_with_file(head.commit, MANIFEST_PATHS[entry.kind], blob)
    parents = [] if head.commit is None else [head.commit]
    message = commit_message(entry, verb=_VERBS[entry.kind])
    payload = repo.commit_payload(tree=tree, parents=parents, author=identity, message=message)
    commit_signature = None if config is None else signing.sign(payload, config)
    commit = repo.write_commit(payload, commit_signature)
    tag_payload = repo.tag_payload(
        target=commit, tag_name=entry.tag_name, tagger=identity, message=tag_message(entry)
    )
    tag_signature = None if config is None else signing.sign(tag_payload, config)
    return commit, repo.write_tag(tag_payload, tag_signature)


# Reading ---------------------------------------------------------------------


def open_registry(cwd: Path) -> Repository:
    """Open the registry for reading, warning when a publish was interrupted."""
    repo = Repository.discover(cwd)
    if not repo.is_bare:
        interrupted = journal.interrupted_publish(repo)
        if interrupted is not None:
            logger.warning(
                "the %s was interrupted, so the work tree may be ahead of HEAD; "
                "run 'gitreg repair'",
                interrupted.subject,
            )
    return repo


def load_manifest(repo: Repository, kind: Kind) -> Manifest:
    """Return the manifest as it is in the work tree, or at HEAD in a bare repository.

    Raises:
        ManifestError: the manifest cannot be read.
    """
    path = MANIFEST_PATHS[kind]
    cache = ManifestCache(repo.git_dir)
    if repo.is_bare:
        head = repo.head_commit()
        return read_head_manifest(repo, head, kind, utc_timestamp(0), cache=cache)
    file = repo.workdir / path
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return empty_manifest(kind, updated_at=utc_timestamp(0))
    return cache.load(data, kind=kind, source=path)


def artifact_presence(repo: Repository, artifacts: list[str]) -> dict[str, bool] | None:
    """Return whether each of an entry's artifacts is present, or None in a bare repository.

    Raises:
        RejectedError: an artifact path leads outside the repository or is not a
            regular file; nothing outside the repository is opened.
    """
    if repo.is_bare:
        return None
    return {
        artifact: paths.artifact_exists(artifact, workdir=repo.workdir) for artifact in artifacts
    }


def filter_entries(
    manifest: Manifest, *, client: str | None = None, release: str | None = None
) -> list[Entry]:
    """Return the entries of one client and release, in canonical order."""
    return [
        entry
        for entry in manifest.entries
        if (client is None or entry.client == client)
        and (release is None or entry.release_tag == release)
    ]


def filter_documents(
    manifest: Manifest, *, client: str | None = None, release: str | None = None
) -> list[dict[str, Any]]:
    """Return ``filter_entries`` as plain dicts, without building entry objects."""
    return [
        document
        for document in manifest.entry_list.documents()
        if (client is None or document["client"] == client)
        and (release is None or document["release_tag"] == release)
    ]


def fetch(
    manifest: Manifest,
    name: str,
    version: str | None = None,
    *,
    where: Callable[[Entry], bool] | None = None,
) -> Entry:
    """Return one version of ``name``, or the one with the highest precedence.

    Only entries for which ``where`` returns True are considered. A hidden entry
    raises the same error as a missing one, so callers can scope reads by client
    without revealing which names exist.

    Raises:
        RejectedError: no such entry.
        UsageError: ``version`` is not SemVer.
    """
    return manifest.entries[_fetch_position(manifest, name, version, where=where)]


def fetch_document(manifest: Manifest, name: str, version: str | None = None) -> dict[str, Any]:
    """Return ``fetch``'s entry as a plain dict, without building an entry object.

    Raises:
        RejectedError: no such entry.
        UsageError: ``version`` is not SemVer.
    """
    return manifest.entry_list.document(_fetch_position(manifest, name, version))


def _fetch_position(
    manifest: Manifest,
    name: str,
    version: str | None,
    *,
    where: Callable[[Entry], bool] | None = None,
) -> int:
    if version is not None:
        parse_version(version)
        found = manifest.position(name, version)
        if found is None or (where is not None and not where(manifest.entries[found])):
            raise RejectedError(
                f"{manifest.kind} '{name}' version {version} not found",
                hint=f"list versions with 'gitreg list --type {manifest.kind}'",
            )
        return found
    positions: Sequence[int] = manifest.positions_of(name)
    if where is not None:
        positions = [index for index in positions if where(manifest.entries[index])]
    if not positions:
        raise RejectedError(
            f"{manifest.kind} '{name}' not found",
            hint=f"list names with 'gitreg list --type {manifest.kind}'",
        )
    # Entries are sorted by precedence within a name, so the last one is the latest.
    return positions[-1]


@dataclass(frozen=True)
class Stats:
    """Aggregate figures over both manifests."""

    models_total: int
    datasets_total: int
    avg_model_cleanliness: float | None
    avg_dataset_cleanliness: float | None
    models_by_client: dict[str, int]
    datasets_by_client: dict[str, int]
    # Entries without a client, which the by-client counts leave out.
    models_without_client: int = 0
    datasets_without_client: int = 0


def _average(entries: tuple[Entry, ...] | list[Entry]) -> float | None:
    scores = [entry.cleanliness_score for entry in entries if entry.cleanliness_score is not None]
    return round(sum(scores) / len(scores), 1) if scores else None


def _by_client(entries: tuple[Entry, ...] | list[Entry]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.client is not None:
            counts[entry.client] = counts.get(entry.client, 0) + 1
    return dict(sorted(counts.items()))


def compute_stats(models: list[Entry], dataset_entries: list[Entry]) -> Stats:
    return Stats(
        models_total=len(models),
        datasets_total=len(dataset_entries),
        avg_model_cleanliness=_average(models),
        avg_dataset_cleanliness=_average(dataset_entries),
        models_by_client=_by_client(models),
        datasets_by_client=_by_client(dataset_entries),
        models_without_client=sum(entry.client is None for entry in models),
        datasets_without_client=sum(entry.client is None for entry in dataset_entries),
    )
