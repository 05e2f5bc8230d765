"""Helpers for the git workflow tests: publishing through the CLI and running real git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import git

MODELS = "models/registry/releases.json"
DATASETS = "datasets/catalog.json"


def run_git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real git and return the result whatever its exit code."""
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)


def commit_file(repo: Path, path: str, data: bytes, message: str = "Add a file") -> None:
    """Write, stage and commit one file with the real git."""
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", message)


def publish_model(
    cli: Any,
    repo: Path,
    name: str,
    version: str,
    *,
    metrics: dict[str, float] | None = None,
    release: str | None = None,
    client: str | None = None,
    epoch: int | None = None,
) -> None:
    """Commit an artifact with git, then publish it as a model through the CLI."""
    artifact = f"models/{name}-{version}.bin"
    commit_file(repo, artifact, f"{name} {version}".encode(), f"Add {artifact}")
    args = ["model-publish", "--path", artifact, "--name", name, "--version", version]
    if metrics is not None:
        metrics_file = repo.parent / f"{name}-{version}-metrics.json"
        metrics_file.write_text(json.dumps(metrics), encoding="utf-8")
        args += ["--metrics", str(metrics_file)]
    if release is not None:
        args += ["--release", release]
    if client is not None:
        args += ["--client", client]
    result = cli(*args, cwd=repo)
    assert result.exit_code == 0, result.stderr


def register_dataset(
    cli: Any, repo: Path, name: str, version: str, *, rows: int, release: str | None = None
) -> None:
    """Commit a CSV with git, then register it as a dataset through the CLI."""
    artifact = f"data/{name}-{version}.csv"
    body = "id\n" + "".join(f"{i}\n" for i in range(rows))
    commit_file(repo, artifact, body.encode(), f"Add {artifact}")
    args = ["dataset-register", "--path", artifact, "--name", name, "--version", version]
    args += ["--rows", str(rows)] + ([] if release is None else ["--release", release])
    result = cli(*args, cwd=repo)
    assert result.exit_code == 0, result.stderr


def load(repo: Path, path: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((repo / path).read_text(encoding="utf-8"))
    return document


def edit_manifest(repo: Path, path: str, change: Any) -> None:
    """Apply ``change`` to the parsed manifest and write it back with two-space indent."""
    document = load(repo, path)
    change(document)
    (repo / path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
