"""Signed publishes that the real ``git verify-commit`` and ``git verify-tag`` accept,
and signing failures that leave nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitreg.errors import SigningError
from gitreg.signing import SigningConfig, sign
from tests.conftest import Cli, configure_gpg_signing, configure_ssh_signing, git, snapshot
from tests.helpers import commit, publish_model

TAG = "model/model@v1.0.0"


def _verified(repo: Path, *args: str) -> bool:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, check=False)
    return result.returncode == 0


def _rejected(cli: Cli, repo: Path, *options: str) -> str:
    if not (repo / "model.bin").exists():
        commit(repo, {"model.bin": b"weights"})
    before = snapshot(repo)
    result = cli("model-publish", "--path", "model.bin", "--version", "1.0.0", *options, cwd=repo)
    assert result.exit_code == 1, result.stderr
    assert snapshot(repo) == before
    return result.stderr


def test_ssh_signed_publish_verifies(cli: Cli, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    result = publish_model(cli, repo, "--json")
    assert json.loads(result.stdout)["signed"] is True
    assert _verified(repo, "verify-commit", "HEAD")
    assert _verified(repo, "verify-tag", TAG)


def test_gpg_signed_publish_verifies(cli: Cli, repo: Path, gpg_key: str) -> None:
    configure_gpg_signing(repo, gpg_key)
    publish_model(cli, repo)
    assert _verified(repo, "verify-commit", "HEAD")
    assert _verified(repo, "verify-tag", TAG)


def test_gpg_signs_with_committer_identity(cli: Cli, repo: Path, gpg_key: str) -> None:
    configure_gpg_signing(repo, gpg_key)
    git(repo, "config", "--unset", "user.signingkey")
    publish_model(cli, repo)
    assert _verified(repo, "verify-commit", "HEAD")


def test_tag_gpgsign_alone_signs(cli: Cli, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    git(repo, "config", "commit.gpgsign", "false")
    publish_model(cli, repo)
    assert _verified(repo, "verify-commit", "HEAD")
    assert _verified(repo, "verify-tag", TAG)


def test_second_signed_publish_verifies(cli: Cli, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    publish_model(cli, repo)
    publish_model(cli, repo, version="1.1.0")
    assert _verified(repo, "verify-commit", "HEAD")
    assert _verified(repo, "verify-commit", "HEAD^")


def test_sign_option_without_config(cli: Cli, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    git(repo, "config", "commit.gpgsign", "false")
    git(repo, "config", "tag.gpgSign", "false")
    publish_model(cli, repo, "--sign")
    assert _verified(repo, "verify-commit", "HEAD")


def test_no_sign_overrides_config(cli: Cli, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    result = publish_model(cli, repo, "--no-sign", "--json")
    assert json.loads(result.stdout)["signed"] is False
    assert "gpgsig" not in git(repo, "cat-file", "commit", "HEAD")
    assert "-----BEGIN" not in git(repo, "cat-file", "tag", TAG)


def test_unsigned_by_default(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo)
    assert not _verified(repo, "verify-commit", "HEAD")
    assert git(repo, "cat-file", "-t", TAG).strip() == "tag"


def test_sign_without_ssh_key_fails(cli: Cli, repo: Path) -> None:
    git(repo, "config", "gpg.format", "ssh")
    message = _rejected(cli, repo, "--sign")
    assert "user.signingkey is not set" in message


def test_missing_ssh_key_fails(cli: Cli, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    git(repo, "config", "user.signingkey", f"{ssh_key}-gone")
    message = _rejected(cli, repo)
    assert f"SSH signing key '{ssh_key}-gone' not found" in message


def test_unknown_gpg_key_fails(cli: Cli, repo: Path, gpg_key: str) -> None:
    configure_gpg_signing(repo, gpg_key)
    git(repo, "config", "user.signingkey", "0123456789ABCDEF0123456789ABCDEF01234567")
    message = _rejected(cli, repo)
    assert "signing with key '0123456789ABCDEF0123456789ABCDEF01234567' failed" in message


def test_gpg_without_any_key_fails(cli: Cli, repo: Path) -> None:
    message = _rejected(cli, repo, "--sign")
    assert "signing with key 'Registry Tester <tester@example.com>' failed" in message


def test_no_signing_key_or_identity() -> None:
    with pytest.raises(SigningError, match="no signing key is configured"):
        sign("payload", SigningConfig())


def test_missing_program_fails(cli: Cli, repo: Path, gpg_key: str) -> None:
    configure_gpg_signing(repo, gpg_key)
    git(repo, "config", "gpg.program", "gitreg-no-such-gpg")
    message = _rejected(cli, repo)
    assert "signing program 'gitreg-no-such-gpg' not found" in message


def test_program_that_does_not_sign(cli: Cli, repo: Path, gpg_key: str) -> None:
    configure_gpg_signing(repo, gpg_key)
    git(repo, "config", "gpg.program", "true")
    message = _rejected(cli, repo)
    assert "true did not sign with key" in message


def test_ssh_program_without_signature(cli: Cli, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    git(repo, "config", "gpg.ssh.program", "true")
    message = _rejected(cli, repo)
    assert "true wrote no signature" in message


def test_x509_program_missing(cli: Cli, repo: Path) -> None:
    git(repo, "config", "gpg.format", "x509")
    git(repo, "config", "gpg.x509.program", "gitreg-no-such-gpgsm")
    message = _rejected(cli, repo, "--sign")
    assert "signing program 'gitreg-no-such-gpgsm' not found" in message


def test_unknown_format_fails(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"weights"})
    git(repo, "config", "gpg.format", "pgp2")
    message = _rejected(cli, repo, "--sign")
    assert "gpg.format 'pgp2' is not supported" in message


def test_non_boolean_gpgsign_fails(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"weights"})
    git(repo, "config", "commit.gpgsign", "sometimes")
    message = _rejected(cli, repo)
    assert "git config commit.gpgsign is not a boolean" in message


@pytest.fixture
def ssh_agent(ssh_key: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real ssh-agent holding ``ssh_key``; yields the agent's socket path."""
    socket = tmp_path / "agent.sock"
    output = subprocess.run(
        ["ssh-agent", "-s", "-a", str(socket)], capture_output=True, text=True, check=True
    ).stdout
    pid = int(output.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))
        subprocess.run(["ssh-add", "-q", str(ssh_key)], capture_output=True, check=True)
        yield str(socket)
    finally:
        os.kill(pid, signal.SIGTERM)


def test_literal_key_signs_via_agent(
    cli: Cli, repo: Path, ssh_key: Path, ssh_agent: str
) -> None:
    configure_ssh_signing(repo, ssh_key)
    public = ssh_key.with_suffix(".pub").read_text(encoding="utf-8").strip()
    git(repo, "config", "user.signingkey", f"key::{public}")
    publish_model(cli, repo)
    assert _verified(repo, "verify-commit", "HEAD")
    assert _verified(repo, "verify-tag", TAG)
