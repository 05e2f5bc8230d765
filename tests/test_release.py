"""``gitreg release`` and ``release-notes``: signed release tags on a verified registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import configure_ssh_signing, git, snapshot
from tests.workflow import MODELS, commit_file, publish_model, register_dataset, run_git

NOTES = (
    "## Release Summary\n"
    "\n"
    "**Models:** 2\n"
    "**Datasets:** 1\n"
    "\n"
    "### Entries released as v1.0.0\n"
    "\n"
    "- Model `forecast` 1.1.0 (acme)\n"
    "- Dataset `sales` 1.0.0\n"
    "\n"
    "### Artifacts\n"
    "- Model Registry: `models/registry/releases.json`\n"
    "- Dataset Catalog: `datasets/catalog.json`\n"
)


@pytest.fixture
def registry(cli: Any, repo: Path) -> Path:
    """Two model versions, one of them in release v1.0.0, and a dataset in it too."""
    commit_file(repo, "README.md", b"registry\n", "Start the registry")
    publish_model(cli, repo, "forecast", "1.0.0")
    publish_model(cli, repo, "forecast", "1.1.0", release="v1.0.0", client="acme")
    register_dataset(cli, repo, "sales", "1.0.0", rows=2, release="v1.0.0")
    return repo


def test_notes_of_head(cli: Any, registry: Path) -> None:
    result = cli("release-notes", "v1.0.0", cwd=registry)
    assert result.stdout == NOTES


def test_signed_release_verifies(cli: Any, registry: Path, ssh_key: Path) -> None:
    configure_ssh_signing(registry, ssh_key)
    result = cli("release", "v1.0.0", cwd=registry)
    assert result.exit_code == 0, result.stderr
    verified = run_git(registry, "verify-tag", "v1.0.0")
    assert verified.returncode == 0, verified.stderr
    assert 'Good "git" signature for tester@example.com' in verified.stderr


def test_release_tag_holds_notes(cli: Any, registry: Path) -> None:
    cli("release", "v1.0.0", "--no-sign", cwd=registry)
    message = git(registry, "tag", "-l", "--format=%(contents)", "v1.0.0")
    assert message.startswith("Release v1.0.0\n\n## Release Summary\n")


def test_release_tags_head(cli: Any, registry: Path) -> None:
    cli("release", "v1.0.0", "--no-sign", cwd=registry)
    target = git(registry, "rev-parse", "v1.0.0^{commit}")
    assert target == git(registry, "rev-parse", "HEAD")


def test_notes_of_existing_tag(cli: Any, registry: Path) -> None:
    cli("release", "v1.0.0", "--no-sign", cwd=registry)
    publish_model(cli, registry, "forecast", "1.2.0", release="v1.0.0")
    result = cli("release-notes", "v1.0.0", cwd=registry)
    assert "**Models:** 2\n" in result.stdout


def test_notes_without_entries(cli: Any, registry: Path) -> None:
    result = cli("release-notes", "v7", cwd=registry)
    assert "### Entries released as v7\n\n- none\n" in result.stdout


def test_verify_failure_blocks_tag(cli: Any, registry: Path) -> None:
    (registry / "models" / "forecast-1.0.0.bin").write_bytes(b"tampered")
    git(registry, "commit", "-q", "-am", "Tamper with an artifact")
    before = snapshot(registry)
    result = cli("release", "v1.0.0", "--no-sign", cwd=registry)
    assert result.exit_code == 1
    assert "verify found 1 problem, so no tag was created" in result.stderr
    assert "hash mismatch detected for models/forecast-1.0.0.bin" in result.stderr
    assert snapshot(registry) == before


def test_many_problems_summarised(cli: Any, registry: Path) -> None:
    for name in ("forecast-1.0.0", "forecast-1.1.0"):
        (registry / "models" / f"{name}.bin").unlink()
    git(registry, "tag", "-d", "model/forecast@v1.0.0", "model/forecast@v1.1.0")
    result = cli("release", "v1.0.0", "--no-sign", cwd=registry)
    assert "verify found 4 problems" in result.stderr
    assert "and 1 more" in result.stderr


def test_signing_failure_leaves_no_tag(cli: Any, registry: Path, ssh_key: Path) -> None:
    configure_ssh_signing(registry, ssh_key)
    git(registry, "config", "user.signingkey", str(ssh_key) + "-missing")
    result = cli("release", "v1.0.0", cwd=registry)
    assert result.exit_code == 1
    assert git(registry, "tag", "-l", "v1.0.0") == ""


def test_existing_tag_rejected(cli: Any, registry: Path) -> None:
    git(registry, "tag", "v1.0.0")
    result = cli("release", "v1.0.0", "--no-sign", cwd=registry)
    assert result.exit_code == 1
    assert "tag 'v1.0.0' already exists" in result.stderr


@pytest.mark.parametrize("tag", ["model/forecast", "v1..0", "v1.0.0.lock"])
def test_bad_tag_name(cli: Any, registry: Path, tag: str) -> None:
    result = cli("release", tag, "--no-sign", cwd=registry)
    assert result.exit_code == 2
    assert f"'{tag}' is not a valid release tag name" in result.stderr


def test_dirty_manifest_rejected(cli: Any, registry: Path) -> None:
    with (registry / MODELS).open("a", encoding="utf-8") as handle:
        handle.write("\n")
    result = cli("release", "v1.0.0", "--no-sign", cwd=registry)
    assert result.exit_code == 1
    assert f"{MODELS} has uncommitted changes" in result.stderr


def test_empty_repository_rejected(cli: Any, repo: Path) -> None:
    result = cli("release", "v1.0.0", "--no-sign", cwd=repo)
    assert result.exit_code == 1
    assert "the repository has no commits" in result.stderr


def test_notes_need_a_commit(cli: Any, repo: Path) -> None:
    result = cli("release-notes", "v1.0.0", cwd=repo)
    assert result.exit_code == 1
    assert "the repository has no commits" in result.stderr
