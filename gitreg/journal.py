"""The publish journal: what an interrupted publish was doing, and how to finish it.

A publish writes its commit and tag objects, then records in the journal
(``gitreg-journal.json`` in the git directory) which references it will move and
which files it will change. It then writes the work tree and the index, moves the
branch and creates the tag in one reference transaction, and deletes the journal.

Moving the branch is the commit point. Until then the work tree and the index are
at most ahead of HEAD, never behind it, so a ``git commit -a`` after a crash can add
the entry but never delete a published one.

``repair`` runs under the writer lock, before every write and as ``gitreg repair``.
When the branch contains the new commit, it completes the publish: the tag, the
work tree and the index. Otherwise it rolls the work tree and the index back to
HEAD and removes a tag that marks no commit on the branch.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from gitreg.errors import GitError, LockTimeoutError
from gitreg.gitrepo import Repository, remove_temporaries, write_atomically
from gitreg.lock import writer_lock

logger = logging.getLogger(__name__)

JOURNAL_NAME = "gitreg-journal.json"


@dataclass(frozen=True)
class FileChange:
    """One work-tree path a publish changes, with its blob before and after."""

    path: str
    old_blob: str | None
    new_blob: str | None


@dataclass(frozen=True)
class Journal:
    """The references and files one publish is about to change."""

    branch: str
    old_commit: str | None
    new_commit: str
    files: tuple[FileChange, ...]
    tag_name: str | None = None
    tag_object: str | None = None

    def to_bytes(self) -> bytes:
        document: dict[str, Any] = {
            "branch": self.branch,
            "old_commit": self.old_commit,
            "new_commit": self.new_commit,
            "tag_name": self.tag_name,
            "tag_object": self.tag_object,
            "files": [vars(change) for change in self.files],
        }
        return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes) -> Journal:
        document = orjson.loads(data)
        return cls(
            branch=document["branch"],
            old_commit=document["old_commit"],
            new_commit=document["new_commit"],
            tag_name=document["tag_name"],
            tag_object=document["tag_object"],
            files=tuple(FileChange(**change) for change in document["files"]),
        )

    @property
    def subject(self) -> str:
        if self.tag_name:
            return f"publish of tag '{self.tag_name}'"
        return f"commit {self.new_commit[:12]} of {', '.join(c.path for c in self.files)}"


@dataclass(frozen=True)
class RepairResult:
    """The outcome of ``repair``: the journal it settled and the files it touched."""

    journal: Journal
    completed: bool
    removed: tuple[str, ...] = ()
    left_alone: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.completed:
            return f"completed the interrupted {self.journal.subject}"
        return f"rolled back the interrupted {self.journal.subject}; run the command again"


def journal_path(git_dir: Path) -> Path:
    return git_dir / JOURNAL_NAME


def write_journal(git_dir: Path, journal: Journal) -> None:
    write_atomically(journal_path(git_dir), journal.to_bytes())


def clear_journal(git_dir: Path) -> None:
    journal_path(git_dir).unlink(missing_ok=True)


def read_journal(git_dir: Path) -> Journal | None:
    """Return the journal of an unfinished publish, or None.

    Raises:
        GitError: the journal exists but cannot be read.
    """
    path = journal_path(git_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return Journal.from_bytes(data)
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise GitError(
            f"the publish journal {path} is damaged ({exc})",
            hint="compare 'git status' with HEAD by hand, then delete the journal",
        ) from exc


def apply(
    repo: Repository,
    record: Journal,
    contents: dict[str, bytes | None],
    move_refs: Callable[[], None],
) -> None:
    """Write ``contents`` (None deletes) to the work tree and index, then call ``move_refs``.

    ``record`` is written first and deleted last, so a crash at any step leaves
    something ``repair`` can finish or undo. Any failure, Ctrl-C included, is undone
    at once before it propagates. The caller holds the writer lock.
    """
    if repo.index_is_locked():
        raise GitError(
            f"{repo.git_dir / 'index.lock'} exists, so the index cannot be updated",
            hint="another git process may be running; if none is, delete that file",
        )
    write_journal(repo.git_dir, record)
    try:
        for path, data in sorted(contents.items()):
            if data is None:
                repo.remove_worktree_file(path)
            else:
                repo.write_worktree_file(path, data)
        move_refs()
    except BaseException:
        _undo(repo)
        raise
    clear_journal(repo.git_dir)


def _undo(repo: Repository) -> None:
    """Repair at once after a failed write, keeping the original error in front."""
    try:
        repair(repo)
    except Exception as exc:  # noqa: BLE001 - the caller re-raises the first error
        logger.warning("could not undo the failed write (%s); run 'gitreg repair'", exc)


def interrupted_publish(repo: Repository) -> Journal | None:
    """Return the journal of a publish that died before finishing, for read commands.

    A journal also exists while a live publish runs. The writer lock separates
    the two cases, because a dead process no longer holds it.
    """
    if read_journal(repo.git_dir) is None:
        return None
    try:
        with writer_lock(repo.git_dir, timeout=0):
            return read_journal(repo.git_dir)
    except LockTimeoutError:
        return None
    except GitError:
        # A read-only git directory cannot be locked, so trust the journal file alone.
        return read_journal(repo.git_dir)


def repair(repo: Repository) -> RepairResult | None:
    """Complete or roll back an interrupted publish; the caller holds the writer lock.

    Returns None when there was nothing to repair.

    Raises:
        GitError: the journal is damaged, or git refused a reference update.
    """
    remove_temporaries(journal_path(repo.git_dir))
    journal = read_journal(repo.git_dir)
    if journal is None:
        return None
    removed = _remove_stale_locks(repo, journal)
    tip = repo.branch_target(journal.branch)
    completed = tip is not None and repo.contains(tip, journal.new_commit)
    _settle_tag(repo, journal, completed=completed)
    left_alone = _settle_files(repo, journal)
    clear_journal(repo.git_dir)
    result = RepairResult(
        journal=journal, completed=completed, removed=removed, left_alone=left_alone
    )
    logger.warning("%s", result.summary())
    return result


def _remove_stale_locks(repo: Repository, journal: Journal) -> tuple[str, ...]:
    """Delete git lock files that the interrupted publish left behind.

    The writer lock proves that the journal's writer is gone, and a lock file
    older than the journal was not made by it, so only newer ones are removed.
    NOTE: a plain git command that took the same lock after the crash and still
    runs would lose its lock. Its own rename of the lock file then fails safely.
    """
    since = journal_path(repo.git_dir).stat().st_mtime
    names = ["index.lock", f"{journal.branch}.lock"]
    if journal.tag_name is not None:
        names.append(f"refs/tags/{journal.tag_name}.lock")
    removed = []
    for name in names:
        lock = repo.git_dir / name
        with contextlib.suppress(FileNotFoundError):
            if lock.stat().st_mtime >= since:
                lock.unlink()
                removed.append(name)
    return tuple(removed)


def _settle_tag(repo: Repository, journal: Journal, *, completed: bool) -> None:
    if journal.tag_name is None or journal.tag_object is None:
        return
    current = repo.tag_object_id(journal.tag_name)
    if completed and current is None:
        repo.create_tag_ref(journal.tag_name, journal.tag_object, reflog_message="gitreg: repair")
    elif not completed and current == journal.tag_object:
        repo.delete_tag_ref(journal.tag_name)


def _settle_files(repo: Repository, journal: Journal) -> tuple[str, ...]:
    """Make each journaled path match HEAD, unless someone changed it since the crash."""
    head = repo.head_commit()
    left_alone = []
    for change in journal.files:
        remove_temporaries(repo.workdir / change.path)
        target = repo.blob_id_at(head, change.path)
        ours = {change.old_blob, change.new_blob, target}
        worktree = repo.worktree_blob_id(change.path)
        staged = repo.index_blob_id(change.path)
        if worktree not in ours or staged not in ours:
            left_alone.append(change.path)
            logger.warning(
                "%s was changed after the interrupted publish; left as it is", change.path
            )
            continue
        if worktree != target or staged != target:
            repo.restore_path(change.path, target)
    return tuple(left_alone)
