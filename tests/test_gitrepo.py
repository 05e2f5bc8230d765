"""The pygit2 wrapper: lookups that return None, and revisions that do not resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg.errors import GitError
from gitreg.gitrepo import Repository
from tests.conftest import git
from tests.helpers import commit


@pytest.fixture
def opened(repo: Path) -> Repository:
    commit(repo, {"folder/file.txt": "content\n"})
    git(repo, "tag", "light")
    git(repo, "tag", "-a", "-m", "annotated", "heavy")
    return Repository.discover(repo)


def test_resolve_branch(opened: Repository, repo: Path) -> None:
    assert opened.resolve("main") == git(repo, "rev-parse", "HEAD").strip()


def test_resolve_annotated_tag(opened: Repository, repo: Path) -> None:
    assert opened.resolve("heavy") == git(repo, "rev-parse", "HEAD").strip()


@pytest.mark.parametrize("revision", ["no-such-branch", "HEAD~5", "main:folder/file.txt"])
def test_resolve_unknown(opened: Repository, revision: str) -> None:
    with pytest.raises(GitError, match=f"revision '{revision}' not found"):
        opened.resolve(revision)


def test_blob_of_folder_is_none(opened: Repository) -> None:
    head = opened.head_commit()
    assert opened.blob_id_at(head, "folder") is None
    assert opened.blob_id_at(head, "folder/file.txt") is not None
    assert opened.read_at(head, "missing.txt") is None


def test_tag_targets(opened: Repository) -> None:
    head = opened.head_commit()
    assert opened.tag_target("light") == head
    assert opened.tag_target("heavy") == head
    assert opened.tag_target("absent") is None


def test_unborn_head(repo: Path) -> None:
    opened = Repository.discover(repo)
    assert opened.head_commit() is None
    assert opened.head_state().commit is None
    assert opened.read_at(None, "anything") is None


def test_discover_from_subfolder(opened: Repository, repo: Path) -> None:
    assert Repository.discover(repo / "folder").workdir == repo


def _advance(opened: Repository, tag_name: str) -> None:
    head = opened.head_state()
    opened.advance_branch_and_tag(
        branch=head.branch,
        expected=head.commit,
        commit=str(head.commit),
        tag_name=tag_name,
        tag_object=str(head.commit),
        reflog_message="test",
    )


def test_advance_rejects_existing_tag(opened: Repository) -> None:
    with pytest.raises(GitError, match="tag 'light' already exists"):
        _advance(opened, "light")


def test_advance_reports_held_lock(opened: Repository, repo: Path) -> None:
    (repo / ".git/refs/heads/main.lock").write_text("")
    with pytest.raises(GitError, match="could not update refs/heads/main and tag 'new'"):
        _advance(opened, "new")
    assert opened.tag_target("new") is None


def test_advance_branch_moved(opened: Repository) -> None:
    head = opened.head_state()
    with pytest.raises(GitError, match="moved while gitreg was committing"):
        opened.advance_branch(
            branch=head.branch, expected=None, commit=str(head.commit), reflog_message="t"
        )


def test_advance_branch_held_lock(opened: Repository, repo: Path) -> None:
    head = opened.head_state()
    (repo / ".git/refs/heads/main.lock").write_text("")
    with pytest.raises(GitError, match="could not update refs/heads/main"):
        opened.advance_branch(
            branch=head.branch, expected=head.commit, commit=str(head.commit),
            reflog_message="t",
        )
