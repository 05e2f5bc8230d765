"""SHA-256 of artifacts: streamed in constant memory, several files in parallel."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gitreg.errors import RejectedError

# hashlib releases the GIL while hashing large buffers, so threads scale across cores.
CHUNK_BYTES = 1024 * 1024


def _open_regular(path: Path) -> int:
    """Open a file for reading, refusing anything but a regular file without blocking.

    Callers check the type first, but the path may be swapped for a FIFO in
    between, and opening a FIFO without O_NONBLOCK waits for a writer forever.

    Raises:
        RejectedError: the path is not a regular file.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise RejectedError(
            f"artifact '{path}' is not a regular file",
            hint="pass a file; directories, FIFOs and devices cannot be hashed",
        )
    return descriptor


def sha256_file(path: Path, *, on_progress: Callable[[int], None] | None = None) -> str:
    """Return the hex SHA-256 of a file, read in chunks of ``CHUNK_BYTES``.

    Raises:
        RejectedError: the path is not a regular file.
    """
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    with open(_open_regular(path), "rb", buffering=0) as handle:
        while True:
            count = handle.readinto(buffer)
            if not count:
                break
            digest.update(view[:count])
            if on_progress is not None:
                on_progress(count)
    return digest.hexdigest()


def combined_sha256(hashes: dict[str, str]) -> str:
    """Return the entry hash of several artifacts: SHA-256 of sorted ``HASH  PATH`` lines.

    A single artifact's entry hash is the artifact's own hash.
    """
    if len(hashes) == 1:
        return next(iter(hashes.values()))
    listing = "".join(f"{hashes[path]}  {path}\n" for path in sorted(hashes))
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def sha256_files(
    paths: Iterable[Path],
    *,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Return the hex SHA-256 of each file, in order, hashing in parallel threads."""
    items = list(paths)
    if len(items) <= 1:
        return [sha256_file(path, on_progress=on_progress) for path in items]
    count = workers or min(len(items), os.cpu_count() or 1, 8)
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda path: sha256_file(path, on_progress=on_progress), items))
