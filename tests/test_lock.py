"""The writer lock: mutual exclusion, timeouts, and locks left by dead processes."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gitreg.errors import LockTimeoutError
from gitreg.lock import LOCK_NAME, writer_lock
from tests.conftest import snapshot
from tests.crashkit import git_output, wait_exit_code

# Each child adds one to a counter file many times under the lock; a lost update
# shows that two children held the lock at once.
_COUNTER = """
import sys
from pathlib import Path
from gitreg.lock import writer_lock
folder, rounds = Path(sys.argv[1]), int(sys.argv[2])
counter = folder / "counter"
for _ in range(rounds):
    with writer_lock(folder, timeout=60):
        value = int(counter.read_text())
        counter.write_text(str(value + 1))
"""


def test_lock_excludes_processes(tmp_path: Path) -> None:
    (tmp_path / "counter").write_text("0")
    children = [
        subprocess.Popen([sys.executable, "-c", _COUNTER, str(tmp_path), "150"]) for _ in range(6)
    ]
    codes = [child.wait(timeout=120) for child in children]
    assert codes == [0] * 6
    assert (tmp_path / "counter").read_text() == "900"
    assert not (tmp_path / LOCK_NAME).exists()


def test_lock_file_removed(tmp_path: Path) -> None:
    with writer_lock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
    assert not (tmp_path / LOCK_NAME).exists()


def test_lock_released_on_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), writer_lock(tmp_path):
        raise RuntimeError("boom")
    assert not (tmp_path / LOCK_NAME).exists()


def test_stale_lock_taken_over(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text("999999\n")
    with writer_lock(tmp_path, timeout=0):
        assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
    assert not (tmp_path / LOCK_NAME).exists()


def _hold_lock(folder: Path) -> int:
    """Fork a child that holds the lock until killed; return once it holds it."""
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            with writer_lock(folder):
                os.write(ready_write, b"x")
                signal.pause()
        finally:
            os._exit(0)
    os.close(ready_write)
    assert os.read(ready_read, 1) == b"x"
    os.close(ready_read)
    return pid


def test_lock_times_out(tmp_path: Path) -> None:
    holder = _hold_lock(tmp_path)
    try:
        with (
            pytest.raises(LockTimeoutError, match=r"timed out after 0\.2 s"),
            writer_lock(tmp_path, timeout=0.2),
        ):
            pass
    finally:
        os.kill(holder, signal.SIGTERM)
        wait_exit_code(holder)


def test_killed_holder_frees_lock(tmp_path: Path) -> None:
    holder = _hold_lock(tmp_path)
    os.kill(holder, signal.SIGKILL)
    wait_exit_code(holder)
    assert (tmp_path / LOCK_NAME).exists()
    with writer_lock(tmp_path, timeout=0):
        pass
    assert not (tmp_path / LOCK_NAME).exists()


def test_deleted_inode_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = tmp_path / LOCK_NAME
    real_flock = fcntl.flock
    calls = []

    def flock_after_release(descriptor: int, operation: int) -> None:
        # The first time, the holder deletes the file between our open and our flock.
        if not calls:
            lock.unlink()
        calls.append(operation)
        real_flock(descriptor, operation)

    monkeypatch.setattr(fcntl, "flock", flock_after_release)
    with writer_lock(tmp_path, timeout=0):
        assert len(calls) == 2
        assert lock.exists()


def test_publish_lock_timeout(repo: Path, cli: Any) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    git_output(repo, "add", "model.bin")
    git_output(repo, "commit", "-qm", "Add the model")
    before = snapshot(repo)
    holder = _hold_lock(repo / ".git")
    try:
        result = cli(
            "model-publish",
            "--path",
            "model.bin",
            "--version",
            "1.0.0",
            "--lock-timeout",
            "0.3",
            cwd=repo,
        )
    finally:
        os.kill(holder, signal.SIGTERM)
        wait_exit_code(holder)
    assert result.exit_code == 1
    assert "timed out after 0.3 s waiting for the writer lock" in result.stderr
    assert snapshot(repo) == before


def test_publish_clears_stale_lock(repo: Path, cli: Any) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    (repo / ".git" / LOCK_NAME).write_text("999999\n")
    result = cli("model-publish", "--path", "model.bin", "--version", "1.0.0", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert not (repo / ".git" / LOCK_NAME).exists()


def test_lock_excludes_threads(tmp_path: Path) -> None:
    # flock(2) locks belong to open file descriptions, not processes, so threads of
    # one server (the HTTP API publishes from a thread pool) also take turns.
    inside: list[int] = []
    overlaps: list[int] = []

    def worker() -> None:
        for _ in range(50):
            with writer_lock(tmp_path, timeout=60):
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(1)
                time.sleep(0.0005)
                inside.pop()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert overlaps == []
    assert not (tmp_path / LOCK_NAME).exists()
