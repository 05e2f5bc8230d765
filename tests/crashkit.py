"""Helpers for tests that run gitreg in child processes and inspect what a crash left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2

MANIFEST = "models/registry/releases.json"


def gitreg_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gitreg", *args]


def run_gitreg(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real ``gitreg`` CLI in a fresh interpreter."""
    return subprocess.run(
        gitreg_command(*args), cwd=repo, capture_output=True, text=True, check=False
    )


def fork_gitreg(repo: Path, *args: str, die_at: str | None = None) -> int:
    """Start ``gitreg`` in a forked child and return its process id.

    The child starts at once, with gitreg already imported, so a kill at a random
    moment lands inside the publish itself rather than in interpreter start-up.
    ``die_at`` (``Owner:function:before|after``) makes the child exit with status
    137 at that step, with no cleanup, as SIGKILL would.
    """
    pid = os.fork()
    if pid != 0:
        return pid
    code = 99
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.chdir(repo)
        if die_at is not None:
            _plant_death(die_at)
        from gitreg.cli.app import run

        code = run(list(args))
    finally:
        os._exit(code)


def _plant_death(point: str) -> None:
    import gitreg.gitrepo
    import gitreg.journal

    owner, name, when = point.split(":")
    holder: Any = gitreg.gitrepo.Repository if owner == "Repository" else gitreg.journal
    original = getattr(holder, name)

    def dying(*args: Any, **kwargs: Any) -> Any:
        if when == "after":
            original(*args, **kwargs)
        os._exit(137)

    setattr(holder, name, dying)


def wait_exit_code(pid: int) -> int:
    """Wait for a child; return its exit code, or minus the signal that killed it."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def git_output(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


@dataclass(frozen=True)
class RegistryState:
    """What a crash test compares: HEAD's, the index's and the work tree's manifests."""

    head_versions: frozenset[str]
    index_versions: frozenset[str]
    worktree_versions: frozenset[str]
    tags: frozenset[str]
    journal: bool
    status: str

    @property
    def consistent(self) -> bool:
        """Whether HEAD, index, work tree and tags all agree and no journal is pending."""
        return (
            not self.journal
            and self.head_versions == self.index_versions == self.worktree_versions
            and self.tags == {f"model/model@v{v}" for v in self.head_versions}
            and MANIFEST not in self.status
        )


def _versions(data: bytes | None) -> frozenset[str]:
    if data is None:
        return frozenset()
    return frozenset(entry["version"] for entry in json.loads(data)["models"])


def registry_state(repo_path: Path) -> RegistryState:
    repo = pygit2.Repository(str(repo_path))
    head = None
    if not repo.head_is_unborn:
        tree = repo.head.peel(pygit2.Commit).tree
        head = repo[tree[MANIFEST].id].read_raw() if MANIFEST in tree else None
    index = repo.index
    staged = repo[index[MANIFEST].id].read_raw() if MANIFEST in index else None
    file = repo_path / MANIFEST
    return RegistryState(
        head_versions=_versions(head),
        index_versions=_versions(staged),
        worktree_versions=_versions(file.read_bytes() if file.exists() else None),
        tags=frozenset(
            ref.removeprefix("refs/tags/")
            for ref in repo.references
            if ref.startswith("refs/tags/model/")
        ),
        journal=(repo_path / ".git" / "gitreg-journal.json").exists(),
        status=git_output(repo_path, "status", "--porcelain"),
    )


def fsck_problems(repo: Path) -> str:
    """Return what ``git fsck`` reports as broken, or an empty string."""
    result = subprocess.run(
        ["git", "fsck", "--no-dangling", "--no-progress"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr
