"""Shared fixtures: isolated git configuration, real repositories and real signing keys.

Every test runs with HOME, the global and system git configuration, and GNUPGHOME
pointed at temporary folders, so a developer's own configuration never leaks in.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest

from gitreg.cli.app import run

IDENTITY_NAME = "Registry Tester"
IDENTITY_EMAIL = "tester@example.com"

_LEAKY_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "EMAIL",
    "SSH_AUTH_SOCK",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point HOME, git's global and system configuration, and GNUPGHOME at empty folders."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("", encoding="utf-8")
    gnupg = home / ".gnupg"
    gnupg.mkdir(mode=0o700)
    for variable in _LEAKY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GNUPGHOME", str(gnupg))
    levels = (
        pygit2.enums.ConfigLevel.GLOBAL,
        pygit2.enums.ConfigLevel.XDG,
        pygit2.enums.ConfigLevel.SYSTEM,
    )
    saved = {level: pygit2.settings.search_path[level] for level in levels}
    for level in levels:
        pygit2.settings.search_path[level] = str(home)
    yield home
    for level, value in saved.items():
        pygit2.settings.search_path[level] = value
    subprocess.run(
        ["gpgconf", "--kill", "all"], env={**os.environ}, check=False, capture_output=True
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh non-bare repository on branch main with a pinned identity and no commits."""
    path = tmp_path / "registry"
    created = pygit2.init_repository(str(path), initial_head="main")
    created.config["user.name"] = IDENTITY_NAME
    created.config["user.email"] = IDENTITY_EMAIL
    return path


@dataclass(frozen=True)
class CliResult:
    """Exit code and captured output of one in-process CLI run."""

    exit_code: int
    stdout: str
    stderr: str


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``gitreg`` in-process from a directory and capture what it printed."""

    def invoke(*args: str, cwd: Path) -> CliResult:
        capsys.readouterr()
        before = Path.cwd()
        os.chdir(cwd)
        try:
            code = run(list(args))
        finally:
            os.chdir(before)
        captured = capsys.readouterr()
        return CliResult(exit_code=code, stdout=captured.out, stderr=captured.err)

    return invoke


def git(repo_path: Path, *args: str) -> str:
    """Run the real git in ``repo_path`` and return its standard output."""
    result = subprocess.run(
        ["git", *args], cwd=repo_path, capture_output=True, text=True, check=True
    )
    return result.stdout


@pytest.fixture
def ssh_key(isolated_home: Path) -> Path:
    """A fresh ed25519 SSH key without a passphrase; returns the private key path."""
    key = isolated_home / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", IDENTITY_EMAIL, "-f", str(key)],
        check=True,
    )
    return key


def configure_ssh_signing(repo_path: Path, key: Path) -> None:
    """Make the repository sign with ``key`` and trust it for ``git verify-*``."""
    allowed = repo_path.parent / "allowed_signers"
    public = key.with_suffix(".pub").read_text(encoding="utf-8").split()
    allowed.write_text(f"{IDENTITY_EMAIL} {public[0]} {public[1]}\n", encoding="utf-8")
    config = pygit2.Repository(str(repo_path)).config
    config["gpg.format"] = "ssh"
    config["user.signingkey"] = str(key)
    config["commit.gpgsign"] = "true"
    config["tag.gpgSign"] = "true"
    config["gpg.ssh.allowedSignersFile"] = str(allowed)


@pytest.fixture
def gpg_key(isolated_home: Path) -> str:
    """A fresh OpenPGP ed25519 signing key without a passphrase; returns its fingerprint."""
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-generate-key",
            f"{IDENTITY_NAME} <{IDENTITY_EMAIL}>",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-secret-keys"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def configure_gpg_signing(repo_path: Path, fingerprint: str) -> None:
    config = pygit2.Repository(str(repo_path)).config
    config["user.signingkey"] = fingerprint
    config["commit.gpgsign"] = "true"
    config["tag.gpgSign"] = "true"


@dataclass(frozen=True)
class RepoSnapshot:
    """Everything a rejected command must leave unchanged."""

    head: str
    refs: str
    index: bytes
    files: dict[str, bytes]


def snapshot(repo_path: Path) -> RepoSnapshot:
    """Capture HEAD, every ref, the index and every work-tree file byte for byte."""
    git_dir = repo_path / ".git"
    head = (git_dir / "HEAD").read_text(encoding="utf-8")
    refs = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname) %(objectname)"],
        cwd=repo_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    index_file = git_dir / "index"
    index = index_file.read_bytes() if index_file.exists() else b""
    files = {
        str(path.relative_to(repo_path)): path.read_bytes()
        for path in sorted(repo_path.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo_path).parts
    }
    return RepoSnapshot(head=head, refs=refs, index=index, files=files)
