"""The writer lock: one gitreg writer per repository at a time.

The lock is a file created with O_EXCL in the git directory that holds the
owner's process id and host name. A lock whose owner process no longer exists on
this host is stale and is removed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from gitreg.errors import LockTimeoutError

logger = logging.getLogger(__name__)

LOCK_NAME = "gitreg.lock"
DEFAULT_TIMEOUT_SECONDS = 10.0
_POLL_SECONDS = 0.02


def _owner_is_dead(lock: Path) -> bool:
    try:
        pid_text, host = lock.read_text(encoding="utf-8").split("\n")[:2]
        pid = int(pid_text)
    except (OSError, ValueError):
        return False
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _try_create(lock: Path) -> bool:
    try:
        descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n{socket.gethostname()}\n")
    return True


@contextlib.contextmanager
def writer_lock(git_dir: Path, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold the repository's writer lock for the duration of the block.

    Raises:
        LockTimeoutError: another live process held the lock for ``timeout`` seconds.
    """
    lock = git_dir / LOCK_NAME
    deadline = time.monotonic() + timeout
    while not _try_create(lock):
        if _owner_is_dead(lock):
            logger.warning("removing stale lock %s left by a process that exited", lock)
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
            continue
        if time.monotonic() >= deadline:
            raise LockTimeoutError(
                f"another gitreg process held {lock} for more than {timeout:g} s",
                hint="wait for it to finish, or raise --lock-timeout",
            )
        time.sleep(_POLL_SECONDS)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
