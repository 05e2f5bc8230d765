"""``gitreg init`` and ``gitreg signers``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pygit2

from tests.conftest import configure_ssh_signing, git, snapshot


def test_init_writes_and_signs(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    result = cli("init", cwd=repo)
    assert result.exit_code == 0, result.stderr
    files = git(repo, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert files == [
        ".gitattributes",
        ".gitreg/allowed_signers",
        "datasets/catalog.json",
        "models/registry/releases.json",
    ]
    git(repo, "verify-commit", "HEAD")
    assert "root of trust" in result.stdout


def test_init_manifests_pass_verify(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    result = cli("verify", "--json", cwd=repo)
    assert result.exit_code == 0, result.stdout


def test_init_twice_changes_nothing(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    before = snapshot(repo)
    result = cli("init", cwd=repo)
    assert result.exit_code == 0
    assert "Already a registry" in result.stdout
    assert snapshot(repo) == before


def test_init_keeps_existing_attributes(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    (repo / ".gitattributes").write_text("*.png binary")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-qm", "attributes")
    cli("init", cwd=repo)
    lines = (repo / ".gitattributes").read_text().splitlines()
    assert lines[0] == "*.png binary"
    assert "models/** -text" in lines


def test_init_generate_key(cli: Any, repo: Path, isolated_home: Path) -> None:
    result = cli("init", "--generate-key", cwd=repo)
    assert result.exit_code == 0, result.stderr
    key = isolated_home / ".config" / "gitreg" / "signing_ed25519"
    config = pygit2.Repository(str(repo)).config
    assert config["user.signingkey"] == str(key)
    assert config.get_bool("commit.gpgsign")
    git(repo, "verify-commit", "HEAD")


def test_init_creates_repository(cli: Any, tmp_path: Path, isolated_home: Path) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    (isolated_home / ".gitconfig").write_text("[user]\n\tname = A\n\temail = a@example.com\n")
    result = cli("init", "--no-sign", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert "Created a git repository" in result.stdout
    assert (folder / "models" / "registry" / "releases.json").is_file()


def test_init_without_key_rejected(cli: Any, repo: Path) -> None:
    before = snapshot(repo)
    result = cli("init", cwd=repo)
    assert result.exit_code == 2
    assert "--generate-key" in result.stderr
    assert snapshot(repo) == before


def test_init_dirty_manifest_rejected(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    (repo / "datasets").mkdir()
    (repo / "datasets" / "catalog.json").write_text("{}")
    result = cli("init", cwd=repo)
    assert result.exit_code == 1
    assert "datasets/catalog.json has uncommitted changes" in result.stderr
    assert git(repo, "rev-list", "--all") == ""


def test_init_x509_rejected(cli: Any, repo: Path) -> None:
    git(repo, "config", "gpg.format", "x509")
    git(repo, "config", "user.signingkey", "ABC")
    result = cli("init", cwd=repo)
    assert result.exit_code == 2
    assert "x509" in result.stderr


def test_signers_list(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    result = cli("signers", "list", "--json", cwd=repo)
    listed = json.loads(result.stdout)
    assert [(s["method"], s["identity"]) for s in listed] == [("ssh", "tester@example.com")]


def test_signers_list_empty(cli: Any, repo: Path) -> None:
    result = cli("signers", "list", cwd=repo)
    assert "No trusted signers" in result.stdout


def test_signers_add_duplicate_rejected(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    before = snapshot(repo)
    result = cli(
        "signers",
        "add",
        "--principal",
        "tester@example.com",
        "--ssh-key",
        f"{ssh_key}.pub",
        cwd=repo,
    )
    assert result.exit_code == 1
    assert "already a signer" in result.stderr
    assert snapshot(repo) == before


def test_signers_add_needs_one_key(cli: Any, repo: Path) -> None:
    result = cli("signers", "add", "--principal", "a@example.com", cwd=repo)
    assert result.exit_code == 2


def test_signers_add_bad_principal(cli: Any, repo: Path, ssh_key: Path) -> None:
    result = cli("signers", "add", "--principal", "a b", "--ssh-key", f"{ssh_key}.pub", cwd=repo)
    assert result.exit_code == 2
    assert "principal 'a b' is not valid" in result.stderr


def test_signers_remove_unknown(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    result = cli("signers", "remove", "nobody@example.com", cwd=repo)
    assert result.exit_code == 1
    assert "no trusted key matches 'nobody@example.com'" in result.stderr


def test_signers_openpgp_add_and_remove(cli: Any, repo: Path, ssh_key: Path, gpg_key: str) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    added = cli("signers", "add", "--openpgp-key", gpg_key, cwd=repo)
    assert added.exit_code == 0, added.stderr
    listed = json.loads(cli("signers", "list", "--json", cwd=repo).stdout)
    assert [s["fingerprint"] for s in listed if s["method"] == "openpgp"] == [gpg_key]
    removed = cli("signers", "remove", gpg_key, cwd=repo)
    assert removed.exit_code == 0, removed.stderr
    assert not (repo / ".gitreg" / f"{gpg_key}.asc").exists()


def test_signers_list_text(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    result = cli("signers", "list", cwd=repo)
    assert result.stdout.startswith("ssh      tester@example.com  ssh-ed25519  SHA256:")


def test_signers_add_openpgp_file(cli: Any, repo: Path, ssh_key: Path, gpg_key: str) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    exported = repo.parent / "key.asc"
    exported.write_bytes(
        subprocess.run(
            ["gpg", "--armor", "--export", gpg_key], capture_output=True, check=True
        ).stdout
    )
    result = cli("signers", "add", "--openpgp-key", str(exported), cwd=repo)
    assert result.exit_code == 0, result.stderr
    again = cli("signers", "add", "--openpgp-key", str(exported), cwd=repo)
    assert "already a signer" in again.stderr


def test_init_does_not_trust_newcomer(
    cli: Any, repo: Path, ssh_key: Path, isolated_home: Path
) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    signers = (repo / ".gitreg" / "allowed_signers").read_bytes()
    other = isolated_home / "newcomer"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    git(repo, "config", "user.signingkey", str(other))
    result = cli("init", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert "ask a trusted signer" in result.stdout
    assert (repo / ".gitreg" / "allowed_signers").read_bytes() == signers


def test_signers_add_garbage_openpgp_file(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    garbage = repo.parent / "garbage.asc"
    garbage.write_text("not a key")
    before = snapshot(repo)
    result = cli("signers", "add", "--openpgp-key", str(garbage), cwd=repo)
    assert result.exit_code == 1
    assert "could not read the OpenPGP key data" in result.stderr
    assert snapshot(repo) == before


def test_signers_add_bad_ssh_key(cli: Any, repo: Path, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    cli("init", cwd=repo)
    before = snapshot(repo)
    result = cli(
        "signers", "add", "--principal", "a@example.com", "--ssh-key", "ssh-ed25519 !!!", cwd=repo
    )
    assert result.exit_code == 2
    assert "SSH key 'ssh-ed25519 !!!' is not valid" in result.stderr
    assert snapshot(repo) == before
