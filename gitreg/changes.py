"""Commit a set of file changes on the current branch, signed like a publish.

``init`` and ``signers`` write several files in one commit. The commit is built
from HEAD's tree with only those paths changed, signed as the git configuration
requests, and the branch moves with a compare-and-swap, so the user's other staged
and unstaged changes are never touched.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from gitreg import journal
from gitreg.errors import RejectedError
from gitreg.gitrepo import Repository
from gitreg.lock import DEFAULT_TIMEOUT_SECONDS, writer_lock
from gitreg.registry import resolve_signing, signing_config
from gitreg.signing import sign as sign_payload

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommitResult:
    """The commit that recorded a change set, or None when nothing changed."""

    commit: str | None
    signed: bool
    paths: tuple[str, ...]


def commit_changes(
    repo: Repository,
    changes: dict[str, bytes | None],
    *,
    message: str,
    sign: bool | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT_SECONDS,
    epoch: int | None = None,
) -> CommitResult:
    """Commit ``changes`` (path to new bytes, or None to delete) on the current branch.

    Paths whose committed content already equals the requested one are left out;
    when nothing is left, no commit is made.

    Raises:
        RejectedError: one of the paths has uncommitted changes.
        GitError: the repository state does not allow a commit.
        SigningError: signing was requested and failed.
        LockTimeoutError: another writer held the lock too long.
    """
    with writer_lock(repo.git_dir, timeout=lock_timeout):
        journal.repair(repo)
        head = repo.head_state()
        pending = {
            path: data for path, data in changes.items() if repo.read_at(head.commit, path) != data
        }
        if not pending:
            return CommitResult(commit=None, signed=False, paths=())
        for path in sorted(pending):
            if repo.path_is_dirty(path):
                raise RejectedError(
                    f"{path} has uncommitted changes",
                    hint="commit them, or restore the file with "
                    f"'git restore --staged --worktree {path}'",
                )
        do_sign = resolve_signing(repo, sign, commit=head.commit)
        stamp = int(time.time()) if epoch is None else epoch
        identity = repo.identity(time=stamp)
        blobs = {
            path: None if data is None else repo.write_blob(data) for path, data in pending.items()
        }
        tree = repo.tree_with_changes(head.commit, blobs)
        parents = [] if head.commit is None else [head.commit]
        payload = repo.commit_payload(tree=tree, parents=parents, author=identity, message=message)
        signature = sign_payload(payload, signing_config(repo)) if do_sign else None
        commit = repo.write_commit(payload, signature)
        record = journal.Journal(
            branch=head.branch,
            old_commit=head.commit,
            new_commit=commit,
            files=tuple(
                journal.FileChange(path, repo.blob_id_at(head.commit, path), blobs[path])
                for path in sorted(pending)
            ),
        )
        journal.apply(
            repo,
            record,
            pending,
            lambda: repo.advance_branch(
                branch=head.branch,
                expected=head.commit,
                commit=commit,
                reflog_message=f"gitreg: {message.splitlines()[0]}",
            ),
        )
        logger.info("committed %s at %s", ", ".join(sorted(pending)), commit)
        return CommitResult(commit=commit, signed=do_sign, paths=tuple(sorted(pending)))
