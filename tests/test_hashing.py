"""Artifact hashing: streamed, parallel, and the entry hash of several artifacts."""

from __future__ import annotations

import hashlib
from pathlib import Path

from gitreg import hashing


def test_file_hash_matches_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    seen: list[int] = []
    assert hashing.sha256_file(path, on_progress=seen.append) == hashlib.sha256(data).hexdigest()
    assert sum(seen) == len(data)
    assert len(seen) == 3


def test_empty_file_hash(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert hashing.sha256_file(path) == hashlib.sha256(b"").hexdigest()


def test_parallel_keeps_order(tmp_path: Path) -> None:
    paths = []
    for index in range(5):
        path = tmp_path / f"f{index}"
        path.write_bytes(str(index).encode() * (index + 1))
        paths.append(path)
    expected = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    assert hashing.sha256_files(paths, workers=3) == expected


def test_single_artifact_hash_is_its_own() -> None:
    assert hashing.combined_sha256({"a": "1" * 64}) == "1" * 64


def test_several_artifacts_hash_listing() -> None:
    listing = f"{'2' * 64}  a\n{'1' * 64}  b\n"
    expected = hashlib.sha256(listing.encode()).hexdigest()
    assert hashing.combined_sha256({"b": "1" * 64, "a": "2" * 64}) == expected
