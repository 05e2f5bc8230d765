"""Releases: a verified registry marked by a signed annotated tag that carries its notes."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from gitreg import journal, signing
from gitreg.entries import Entry
from gitreg.errors import CheckFailedError, GitError, RejectedError, SigningError, UsageError
from gitreg.gitrepo import Repository
from gitreg.lock import DEFAULT_TIMEOUT_SECONDS, writer_lock
from gitreg.manifest import KINDS, MANIFEST_PATHS
from gitreg.registry import SIGNING_SETUP_HINT, read_head_manifest, signing_config, utc_timestamp
from gitreg.verify import verify_registry

logger = logging.getLogger(__name__)

_MANIFEST_TITLES = {"model": "Model Registry", "dataset": "Dataset Catalog"}
_SHOWN_PROBLEMS = 3


@dataclass(frozen=True)
class ReleaseResult:
    """The tag a release created."""

    tag: str
    commit: str
    tag_object: str
    notes: str
    signed: bool


def _entry_line(entry: Entry) -> str:
    client = f" ({entry.client})" if entry.client else ""
    return f"- {entry.kind.title()} `{entry.name}` {entry.version}{client}"


def release_notes(repo: Repository, tag: str, *, commit: str | None = None) -> str:
    """Return the release notes of ``tag`` as Markdown.

    The notes describe the registry at ``commit``. By default that is the commit
    the tag points at, or HEAD while the tag does not exist yet.

    Raises:
        GitError: the repository has no commits.
        ManifestError: a manifest at that commit cannot be read.
    """
    if commit is None:
        commit = repo.tag_target(tag) or repo.head_commit()
    if commit is None:
        raise GitError("the repository has no commits", hint="publish or commit something first")
    now = utc_timestamp(0)
    manifests = {kind: read_head_manifest(repo, commit, kind, now) for kind in KINDS}
    released = [
        entry for kind in KINDS for entry in manifests[kind].entries if entry.release_tag == tag
    ]
    lines = [
        "## Release Summary",
        "",
        f"**Models:** {len(manifests['model'].entries)}",
        f"**Datasets:** {len(manifests['dataset'].entries)}",
        "",
        f"### Entries released as {tag}",
        "",
        *([_entry_line(entry) for entry in released] or ["- none"]),
        "",
        "### Artifacts",
        *(f"- {_MANIFEST_TITLES[kind]}: `{MANIFEST_PATHS[kind]}`" for kind in KINDS),
    ]
    return "\n".join(lines) + "\n"


def _check_tag(repo: Repository, tag: str) -> None:
    if not repo.is_valid_tag_name(tag) or tag.startswith(("model/", "dataset/")):
        raise UsageError(
            f"'{tag}' is not a valid release tag name",
            hint="use a name such as v1.2.0; model/ and dataset/ are kept for entry tags",
        )
    if repo.tag_exists(tag):
        raise RejectedError(
            f"tag '{tag}' already exists", hint="releases are never moved; pick the next version"
        )


def _check_clean(repo: Repository) -> str:
    head = repo.head_commit()
    if head is None:
        raise GitError("the repository has no commits", hint="publish something before releasing")
    for path in MANIFEST_PATHS.values():
        if repo.path_is_dirty(path):
            raise RejectedError(
                f"{path} has uncommitted changes, so the tag would not match what was verified",
                hint="commit or restore the file, then release again",
            )
    return head


def _verified(repo: Repository) -> None:
    report = verify_registry(repo)
    if report.valid:
        return
    errors = report.errors
    shown = "; ".join(errors[:_SHOWN_PROBLEMS])
    more = f" and {len(errors) - _SHOWN_PROBLEMS} more" if len(errors) > _SHOWN_PROBLEMS else ""
    raise CheckFailedError(
        f"verify found {len(errors)} problem{'s' if len(errors) != 1 else ''}, so no tag "
        f"was created: {shown}{more}",
        hint="run 'gitreg verify' for the full report and fix the registry first",
    )


def _signature(repo: Repository, payload: str) -> str:
    try:
        return signing.sign(payload, signing_config(repo))
    except SigningError as exc:
        raise SigningError(
            f"the release tag could not be signed: {exc.message}",
            hint=f"{exc.hint + '; ' if exc.hint else ''}or {SIGNING_SETUP_HINT}, "
            "or pass --no-sign to create an unsigned release tag",
        ) from None


def release(
    repo: Repository,
    tag: str,
    *,
    sign: bool = True,
    epoch: int | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> ReleaseResult:
    """Verify the registry, then tag HEAD with a signed annotated tag holding the notes.

    A release is an attestation, so it is signed unless ``sign`` is false,
    whatever the value of ``tag.gpgSign``.

    Raises:
        UsageError: ``tag`` is not a valid tag name.
        RejectedError: the tag exists or a manifest has uncommitted changes.
        CheckFailedError: verify found a problem; no tag is created.
        SigningError: signing failed; no tag is created.
        GitError: the repository has no commits or the identity is not set.
    """
    _check_tag(repo, tag)
    with writer_lock(repo.git_dir, timeout=lock_timeout):
        journal.repair(repo)
        head = _check_clean(repo)
        _verified(repo)
        notes = release_notes(repo, tag, commit=head)
        tagger = repo.identity(time=int(time.time()) if epoch is None else epoch)
        payload = repo.tag_payload(
            target=head, tag_name=tag, tagger=tagger, message=f"Release {tag}\n\n{notes}"
        )
        signature = _signature(repo, payload) if sign else None
        tag_object = repo.write_tag(payload, signature)
        repo.create_tag(tag, tag_object)
    logger.info("created release tag %s at %s", tag, head)
    if not tag.startswith("v"):
        logger.warning(
            "release tag %s does not start with 'v', and the release workflow runs only "
            "on v* tags; use a tag such as v%s to trigger it",
            tag,
            tag,
        )
    return ReleaseResult(tag=tag, commit=head, tag_object=tag_object, notes=notes, signed=sign)
