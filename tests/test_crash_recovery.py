"""Publishes that die at each step: the journal lets the next command finish or undo them."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from gitreg import journal
from gitreg.errors import GitError
from gitreg.gitrepo import Repository
from tests.conftest import snapshot
from tests.crashkit import (
    MANIFEST,
    fork_gitreg,
    fsck_problems,
    git_output,
    registry_state,
    wait_exit_code,
)

PUBLISH = ("model-publish", "--path", "model.bin", "--version")


@pytest.fixture
def published(repo: Path, cli: Any) -> Path:
    """A registry with version 1.0.0 published and the artifact committed."""
    (repo / "model.bin").write_bytes(b"weights")
    (repo / ".gitattributes").write_text("*.bin -text\n", encoding="utf-8")
    git_output(repo, "add", "model.bin", ".gitattributes")
    git_output(repo, "commit", "-qm", "Add the model")
    result = cli(*PUBLISH, "1.0.0", cwd=repo)
    assert result.exit_code == 0, result.stderr
    return repo


def _die(repo: Path, point: str, version: str = "2.0.0") -> None:
    code = wait_exit_code(fork_gitreg(repo, *PUBLISH, version, die_at=point))
    assert code == 137


ROLLED_BACK = [
    "journal:write_journal:after",
    "Repository:write_worktree_file:before",
    "Repository:write_worktree_file:after",
    "Repository:advance_branch_and_tag:before",
]
COMPLETED = ["Repository:advance_branch_and_tag:after", "journal:clear_journal:before"]


@pytest.mark.parametrize("point", ROLLED_BACK)
def test_death_before_refs_rolls_back(published: Path, point: str, cli: Any) -> None:
    _die(published, point)
    result = cli("repair", cwd=published)
    assert result.exit_code == 0, result.stderr
    assert "rolled back" in result.stdout
    state = registry_state(published)
    assert state.consistent, state
    assert state.head_versions == {"1.0.0"}


@pytest.mark.parametrize("point", COMPLETED)
def test_death_after_refs_completes(published: Path, point: str, cli: Any) -> None:
    _die(published, point)
    result = cli("repair", cwd=published)
    assert result.exit_code == 0, result.stderr
    assert "completed" in result.stdout
    state = registry_state(published)
    assert state.consistent, state
    assert state.head_versions == {"1.0.0", "2.0.0"}


@pytest.mark.parametrize("point", ROLLED_BACK + COMPLETED)
def test_worktree_never_behind_head(published: Path, point: str, cli: Any) -> None:
    _die(published, point)
    state = registry_state(published)
    assert state.worktree_versions >= state.head_versions
    assert state.index_versions >= state.head_versions


def test_half_done_state_journaled(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:before")
    assert registry_state(published).journal


def test_list_reports_interrupted(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:before")
    result = cli("list", "--type", "model", cwd=published)
    assert result.exit_code == 0
    assert "run 'gitreg repair'" in result.stderr


def test_verify_fails_when_interrupted(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:before")
    result = cli("verify", "--no-hash", cwd=published)
    assert result.exit_code == 1
    assert "gitreg repair" in result.stdout


def test_next_publish_repairs_first(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:before")
    result = cli(*PUBLISH, "2.0.0", cwd=published)
    assert result.exit_code == 0, result.stderr
    assert "rolled back the interrupted publish" in result.stderr
    assert registry_state(published).consistent


def test_repair_after_completed_keeps_tag(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:after")
    cli("repair", cwd=published)
    assert "model/model@v2.0.0" in git_output(published, "tag")


def test_repair_recreates_missing_tag(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:after")
    git_output(published, "tag", "-d", "model/model@v2.0.0")
    cli("repair", cwd=published)
    state = registry_state(published)
    assert state.consistent, state


def test_repair_deletes_unreachable_tag(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:after")
    git_output(published, "reset", "-q", "--keep", "HEAD~1")
    cli("repair", cwd=published)
    state = registry_state(published)
    assert state.consistent, state


def test_repair_keeps_user_edits(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:before")
    (published / MANIFEST).write_bytes(b"edited by hand\n")
    result = cli("repair", cwd=published)
    assert "Left models/registry/releases.json as it is" in result.stdout
    assert (published / MANIFEST).read_bytes() == b"edited by hand\n"


def test_repair_removes_stale_index_lock(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:before")
    (published / ".git" / "index.lock").write_bytes(b"")
    result = cli("repair", cwd=published)
    assert "index.lock" in result.stdout
    assert registry_state(published).consistent


def test_repair_keeps_older_lock(published: Path, cli: Any) -> None:
    _die(published, "journal:write_journal:after")
    lock = published / ".git" / "index.lock"
    lock.write_bytes(b"")
    old = time.time() - 60
    os.utime(lock, (old, old))
    result = cli("repair", cwd=published)
    assert result.exit_code == 0, result.stderr
    assert lock.exists()


def test_repair_removes_temporaries(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:before")
    leftover = published / "models" / "registry" / ".releases.json.gitreg-tmp-abc"
    leftover.write_bytes(b"{")
    cli("repair", cwd=published)
    assert not leftover.exists()


def test_repair_nothing_to_do(published: Path, cli: Any) -> None:
    result = cli("repair", cwd=published)
    assert result.exit_code == 0
    assert "Nothing to repair" in result.stdout


def test_first_publish_death_rolls_back(repo: Path, cli: Any) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    _die(repo, "Repository:advance_branch_and_tag:before", "1.0.0")
    cli("repair", cwd=repo)
    assert not (repo / MANIFEST).exists()


def test_damaged_journal_reported(published: Path, cli: Any) -> None:
    (published / ".git" / "gitreg-journal.json").write_bytes(b"{not json")
    result = cli("repair", cwd=published)
    assert result.exit_code == 1
    assert "journal" in result.stderr
    assert "Traceback" not in result.stderr


def test_fsck_clean_after_repairs(published: Path, cli: Any) -> None:
    for major, point in enumerate(ROLLED_BACK + COMPLETED, start=3):
        _die(published, point, f"{major}.0.0")
        cli("repair", cwd=published)
    assert fsck_problems(published) == ""


def test_held_index_lock_rejected(published: Path, cli: Any) -> None:
    lock = published / ".git" / "index.lock"
    lock.write_bytes(b"")
    before = snapshot(published)
    result = cli(*PUBLISH, "2.0.0", cwd=published)
    assert result.exit_code == 1
    assert "index.lock exists" in result.stderr
    assert snapshot(published) == before
    assert not registry_state(published).journal


def test_index_failure_undone(published: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Repository.write_worktree_file
    calls: list[str] = []

    def racing_git(self: Repository, path: str, data: bytes) -> None:
        # Another git process takes the index lock between the journal and the index write.
        if not calls:
            (self.git_dir / "index.lock").write_bytes(b"")
        calls.append(path)
        original(self, path, data)

    monkeypatch.setattr(Repository, "write_worktree_file", racing_git)
    result = cli(*PUBLISH, "2.0.0", cwd=published)
    state = registry_state(published)
    assert result.exit_code == 1
    assert "could not update the git index" in result.stderr
    assert state.consistent, state
    assert state.head_versions == {"1.0.0"}


def test_failed_undo_keeps_first_error(
    published: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_repair = journal.repair

    def repair_once(repo: Repository) -> Any:
        calls.append(1)
        if len(calls) > 1:
            raise GitError("the disk went away")
        return real_repair(repo)

    def refused(*args: Any, **kwargs: Any) -> None:
        raise GitError("branch main moved during the publish")

    monkeypatch.setattr(journal, "repair", repair_once)
    monkeypatch.setattr(Repository, "advance_branch_and_tag", refused)
    result = cli(*PUBLISH, "2.0.0", cwd=published)
    assert result.exit_code == 1
    assert "branch main moved" in result.stderr
    assert "could not undo the failed write (the disk went away)" in result.stderr
    assert registry_state(published).journal


def test_read_only_journal_reported(
    published: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _die(published, "Repository:advance_branch_and_tag:before")
    real_open = os.open

    def read_only(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("gitreg.lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    result = cli("list", "--type", "model", cwd=published)
    assert result.exit_code == 0
    assert "gitreg repair" in result.stderr


@pytest.mark.parametrize(
    ("point", "files_after"),
    [
        ("Repository:advance_branch:before", False),
        ("Repository:advance_branch:after", True),
    ],
)
def test_interrupted_init_settled(repo: Path, cli: Any, point: str, files_after: bool) -> None:
    (repo / "README").write_text("registry\n", encoding="utf-8")
    git_output(repo, "add", "README")
    git_output(repo, "commit", "-qm", "Start")
    code = wait_exit_code(fork_gitreg(repo, "init", "--no-sign", die_at=point))
    assert code == 137
    listing = cli("list", "--type", "model", cwd=repo)
    result = cli("repair", cwd=repo)
    assert "was interrupted" in listing.stderr
    assert result.exit_code == 0
    assert (repo / MANIFEST).exists() == files_after
    assert git_output(repo, "status", "--porcelain") == ""


def test_ctrl_c_rolls_back(published: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Repository, "advance_branch_and_tag", interrupted)
    result = cli(*PUBLISH, "2.0.0", cwd=published)
    state = registry_state(published)
    assert result.exit_code == 130
    assert state.consistent, state
    assert state.head_versions == {"1.0.0"}


def test_release_repairs_first(published: Path, cli: Any) -> None:
    _die(published, "Repository:advance_branch_and_tag:before")
    result = cli("release", "v1.0.0", "--no-sign", cwd=published)
    assert result.exit_code == 0, result.stderr
    assert "rolled back the interrupted publish" in result.stderr
    assert not registry_state(published).journal
