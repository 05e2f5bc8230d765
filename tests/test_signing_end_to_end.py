"""Signed publishes that the real ``git verify-commit`` and ``git verify-tag`` accept."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import configure_gpg_signing, configure_ssh_signing, git


def _publish(cli: object, repo: Path) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    result = cli("model-publish", "--path", "model.bin", "--version", "1.0.0", cwd=repo)  # type: ignore[operator]
    assert result.exit_code == 0, result.stderr


def test_ssh_signed_publish_verifies(cli: object, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    _publish(cli, repo)
    git(repo, "verify-commit", "HEAD")
    git(repo, "verify-tag", "model/model@v1.0.0")


def test_gpg_signed_publish_verifies(cli: object, repo: Path, gpg_key: str) -> None:
    configure_gpg_signing(repo, gpg_key)
    _publish(cli, repo)
    git(repo, "verify-commit", "HEAD")
    git(repo, "verify-tag", "model/model@v1.0.0")


def test_missing_key_fails_without_trace(cli: object, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    subprocess.run(
        ["git", "config", "user.signingkey", str(ssh_key) + "-gone"], cwd=repo, check=True
    )
    (repo / "model.bin").write_bytes(b"weights")
    result = cli("model-publish", "--path", "model.bin", "--version", "1.0.0", cwd=repo)  # type: ignore[operator]
    assert result.exit_code == 1
    assert "not found" in result.stderr
    assert git(repo, "tag") == ""
