"""Publishes that used to go through quietly and leave a registry verify cannot accept."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import IDENTITY_EMAIL, Cli, configure_ssh_signing, git, snapshot
from tests.helpers import commit, publish_model, write


@pytest.fixture
def trusted(repo: Path, ssh_key: Path) -> Path:
    """A registry whose committed trust files name a key, with no signing configured."""
    public = ssh_key.with_suffix(".pub").read_text(encoding="utf-8").split()
    commit(repo, {".gitreg/allowed_signers": f"{IDENTITY_EMAIL} {public[0]} {public[1]}\n"})
    return repo


def _publish(cli: Cli, repo: Path, *options: str) -> tuple[int, str]:
    write(repo, "model.bin", b"weights")
    result = cli("model-publish", "--path", "model.bin", "--version", "1.0.0", *options, cwd=repo)
    return result.exit_code, result.stderr


def test_policy_without_signing_rejected(cli: Cli, trusted: Path) -> None:
    code, stderr = _publish(cli, trusted)
    assert code == 1
    assert "requires signed publishes" in stderr
    assert "--no-sign" in stderr


def test_policy_rejection_writes_nothing(cli: Cli, trusted: Path) -> None:
    write(trusted, "model.bin", b"weights")
    before = snapshot(trusted)
    _publish(cli, trusted)
    assert snapshot(trusted) == before


def test_policy_allows_no_sign(cli: Cli, trusted: Path) -> None:
    code, _ = _publish(cli, trusted, "--no-sign")
    assert code == 0


def test_policy_with_signing_signs(cli: Cli, trusted: Path, ssh_key: Path) -> None:
    configure_ssh_signing(trusted, ssh_key)
    code, _ = _publish(cli, trusted)
    git(trusted, "verify-tag", "model/model@v1.0.0")  # Raises unless the signature is good.
    assert code == 0


def test_malformed_policy_needs_signing(cli: Cli, repo: Path) -> None:
    commit(repo, {".gitreg/allowed_signers": "not a signer line\n"})
    code, _ = _publish(cli, repo)
    assert code == 1


def test_empty_policy_publishes_unsigned(cli: Cli, repo: Path) -> None:
    commit(repo, {".gitreg/allowed_signers": "# nobody yet\n"})
    code, _ = _publish(cli, repo)
    assert code == 0


def test_signers_add_needs_signing(cli: Cli, trusted: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    before = snapshot(trusted)
    result = cli(
        "signers", "add", "--principal", "b@example.com", "--ssh-key", f"{other}.pub", cwd=trusted
    )
    assert "requires signed publishes" in result.stderr
    assert snapshot(trusted) == before


def test_modified_artifact_warns(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"committed"})
    write(repo, "model.bin", b"changed")
    result = publish_model(cli, repo)
    assert "model.bin has uncommitted changes" in result.stderr


def test_committed_artifact_quiet(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"committed", ".gitattributes": "*.bin -text\n"})
    result = publish_model(cli, repo)
    assert "model.bin" not in result.stderr


def test_clone_hints_uncommitted_artifact(cli: Cli, repo: Path, tmp_path: Path) -> None:
    publish_model(cli, repo)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    result = cli("verify", cwd=clone)
    assert "may never have been committed in the publishing repository" in result.stdout


def test_origin_warns_untracked_artifact(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo)
    result = cli("verify", cwd=repo)
    assert "! artifact model.bin is not committed at HEAD" in result.stdout


def test_origin_untracked_artifact_passes(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo)
    assert cli("verify", cwd=repo).exit_code == 0


def test_origin_warns_modified_artifact(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"committed"})
    write(repo, "model.bin", b"changed")
    publish_model(cli, repo)
    result = cli("verify", cwd=repo)
    assert "! artifact model.bin differs from HEAD" in result.stdout


def test_invalid_release_rejected(cli: Cli, repo: Path) -> None:
    code, stderr = _publish(cli, repo, "--release", "not a tag")
    assert code == 2
    assert "--release 'not a tag' is not a valid git tag name" in stderr


def test_case_variant_rejected(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo, "--name", "Model.UPPER")
    before = snapshot(repo)
    result = cli("model-publish", "--path", "model.bin", "--version", "2.0.0", "--name",
                 "model.upper", cwd=repo)  # fmt: skip
    assert "use the existing name instead (--name Model.UPPER)" in result.stderr
    assert snapshot(repo) == before


def test_same_name_other_kind_allowed(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo, "--name", "Sales")
    write(repo, "data.csv", "a\n1\n")
    result = cli("dataset-register", "--path", "data.csv", "--version", "1.0.0", "--name",
                 "sales", "--rows", "1", cwd=repo)  # fmt: skip
    assert result.exit_code == 0


def test_unsigned_init_names_no_keys(cli: Cli, repo: Path) -> None:
    result = cli("init", "--no-sign", cwd=repo)
    assert "root of trust" not in result.stdout


def test_unsigned_release_hints_no_sign(cli: Cli, repo: Path) -> None:
    commit(repo, {"README": "registry\n"})
    result = cli("release", "v1.0.0", cwd=repo)
    assert "pass --no-sign" in result.stderr


def test_release_without_v_warns(cli: Cli, repo: Path) -> None:
    commit(repo, {"README": "registry\n"})
    result = cli("release", "1.0.0", "--no-sign", cwd=repo)
    assert "runs only on v* tags" in result.stderr


def test_release_with_v_quiet(cli: Cli, repo: Path) -> None:
    commit(repo, {"README": "registry\n"})
    result = cli("release", "v1.0.0", "--no-sign", cwd=repo)
    assert "v* tags" not in result.stderr


def test_stats_counts_no_client(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo, "--client", "acme")
    publish_model(cli, repo, version="1.1.0")
    result = cli("stats", cwd=repo)
    assert "  (no client): 1" in result.stdout


def test_stats_omits_empty_no_client(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo, "--client", "acme")
    result = cli("stats", cwd=repo)
    assert "(no client)" not in result.stdout
