"""SIGKILL a publishing process at random moments, many times over.

After every kill the registry must be complete or untouched, or carry a journal
that read commands report and ``repair`` resolves. The work tree and the index are
never behind HEAD, so ``git commit -a`` can never delete a published entry.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.crashkit import fork_gitreg, fsck_problems, git_output, registry_state, wait_exit_code

PUBLISH = ("model-publish", "--path", "model.bin", "--version")
MAX_ITERATIONS = 40
MAX_SECONDS = 45.0


def _kill_after(pid: int, delay: float, *, journal: Path | None = None) -> int:
    """SIGKILL the child ``delay`` seconds after it starts, or after ``journal`` appears.

    Returns the child's exit code. The wait is a busy loop, because a sleep
    would round short delays up to the scheduler's tick.
    """
    deadline = None if journal is not None else time.perf_counter() + delay
    while deadline is None or time.perf_counter() < deadline:
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            return os.waitstatus_to_exitcode(status)
        if deadline is None and journal is not None and journal.exists():
            deadline = time.perf_counter() + delay
    os.kill(pid, signal.SIGKILL)
    return wait_exit_code(pid)


def _publish_timing(repo: Path, journal: Path) -> tuple[float, float]:
    """Publish once unharmed; return its duration and how long its journal existed."""
    started = time.perf_counter()
    pid = fork_gitreg(repo, *PUBLISH, "0.1.0")
    appeared = vanished = None
    while True:
        finished, status = os.waitpid(pid, os.WNOHANG)
        now = time.perf_counter()
        exists = journal.exists()
        if appeared is None and exists:
            appeared = now
        if appeared is not None and vanished is None and not exists:
            vanished = now
        if finished:
            assert os.waitstatus_to_exitcode(status) == 0
            break
    ended = time.perf_counter()
    window = (vanished or ended) - (appeared or ended)
    return ended - started, max(window, 0.001)


@pytest.mark.slow
def test_random_kills_keep_registry(repo: Path, cli: Any) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    (repo / ".gitattributes").write_text("*.bin -text\n", encoding="utf-8")
    git_output(repo, "add", "model.bin", ".gitattributes")
    git_output(repo, "commit", "-qm", "Add the model")
    journal = repo / ".git" / "gitreg-journal.json"
    duration, window = _publish_timing(repo, journal)
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    stop = time.monotonic() + MAX_SECONDS
    for iteration in range(1, MAX_ITERATIONS + 1):
        if time.monotonic() > stop:
            break
        version = f"{iteration}.0.0"
        before = registry_state(repo).head_versions
        pid = fork_gitreg(repo, *PUBLISH, version)
        # Odd iterations aim at the steps after the journal, where a crash hurts most.
        if iteration % 2:
            code = _kill_after(pid, rng.uniform(0, 1.2 * window), journal=journal)
        else:
            code = _kill_after(pid, rng.uniform(0, 1.3 * duration))
        where = f"seed {seed}, iteration {iteration}, exit {code}"
        state = registry_state(repo)
        assert state.worktree_versions >= state.head_versions, where
        assert state.index_versions >= state.head_versions, where
        if state.journal:
            listing = cli("list", "--type", "model", cwd=repo)
            assert "gitreg repair" in listing.stderr, where
            repaired = cli("repair", cwd=repo)
            assert repaired.exit_code == 0, f"{where}: {repaired.stderr}"
            outcomes["repaired"] += 1
            state = registry_state(repo)
        assert state.consistent, f"{where}: {state}"
        assert state.head_versions - before in ({version}, set()), where
        assert fsck_problems(repo) == "", where
        outcomes["published" if version in state.head_versions else "not published"] += 1
    assert outcomes["repaired"] > 0, f"seed {seed}: no kill landed mid-publish: {outcomes}"
    assert cli("verify", cwd=repo).exit_code == 0
