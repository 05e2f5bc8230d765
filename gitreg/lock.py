"""The writer lock: one gitreg writer per repository at a time.

The lock is ``gitreg.lock`` in the git directory, held with ``flock(2)``. The
kernel drops a ``flock`` when its process exits, however it exits, so a lock left
by a killed process is free to the next writer. No stale-lock guess based on
process ids is needed, and two waiters can never both remove a stale file.

The holder deletes the file before it lets go, so no lock file is left behind. A
waiter may by then have opened the old file and win the ``flock`` on a deleted
inode; it checks that the path still names the inode it locked and starts over
when it does not. The file holds the holder's process id, for people who look.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from gitreg.errors import GitError, LockTimeoutError

logger = logging.getLogger(__name__)

LOCK_NAME = "gitreg.lock"
DEFAULT_TIMEOUT_SECONDS = 5.0
# Waiters poll because flock(2) has no timeout; the interval grows to this cap.
_MAX_POLL_SECONDS = 0.01


def _try_lock(lock: Path) -> int | None:
    """Return a descriptor that holds the lock on the file now at ``lock``, or None."""
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(descriptor)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    try:
        current = os.stat(lock)
    except FileNotFoundError:
        current = None
    locked = os.fstat(descriptor)
    if current is None or (current.st_dev, current.st_ino) != (locked.st_dev, locked.st_ino):
        # The previous holder deleted this inode after we opened it: not the lock any more.
        os.close(descriptor)
        return _try_lock(lock)
    return descriptor


def _record_owner(descriptor: int, lock: Path) -> None:
    previous = os.pread(descriptor, 64, 0).decode("ascii", "replace").strip()
    if previous:
        logger.info(
            "took over %s from process %s, which exited without removing it",
            lock,
            previous,
        )
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)


def _acquire(lock: Path, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        descriptor = _try_lock(lock)
        if descriptor is not None:
            return descriptor
        if time.monotonic() >= deadline:
            raise LockTimeoutError(
                f"timed out after {timeout:g} s waiting for the writer lock {lock}, "
                "which another gitreg process holds",
                hint="wait for that process to finish, or raise --lock-timeout",
            )
        time.sleep(pause)
        pause = min(pause * 2, _MAX_POLL_SECONDS)


@contextlib.contextmanager
def writer_lock(git_dir: Path, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold the repository's writer lock for the duration of the block.

    Raises:
        LockTimeoutError: another process held the lock for ``timeout`` seconds.
        GitError: the lock file cannot be created, as in a read-only git directory.
    """
    lock = git_dir / LOCK_NAME
    try:
        descriptor = _acquire(lock, timeout)
    except OSError as exc:
        raise GitError(
            f"cannot create the writer lock {lock}: {exc.strerror}",
            hint="check that you may write to the repository's git directory",
        ) from exc
    try:
        _record_owner(descriptor, lock)
        yield
    finally:
        # Unlink while still holding the lock, so no one can lock the path in between.
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        os.close(descriptor)
