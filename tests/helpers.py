"""Small helpers shared by the test modules: committing files and publishing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Cli, CliResult, git

MODELS = "models/registry/releases.json"
DATASETS = "datasets/catalog.json"


def write(repo: Path, relative: str, data: bytes | str) -> Path:
    """Write a file under ``repo``, creating its folders."""
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def commit(repo: Path, files: dict[str, bytes | str], message: str = "Add files") -> str:
    """Write and commit ``files`` with the real git; return the new HEAD."""
    for relative, data in files.items():
        write(repo, relative, data)
    git(repo, "add", "--", *files)
    git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def publish_model(
    cli: Cli, repo: Path, *options: str, path: str = "model.bin", version: str = "1.0.0"
) -> CliResult:
    """Publish a model artifact (created if missing) and require success."""
    if not (repo / path).exists():
        write(repo, path, f"weights of {path}")
    result = cli("model-publish", "--path", path, "--version", version, *options, cwd=repo)
    assert result.exit_code == 0, result.stderr
    return result


def register_dataset(
    cli: Cli, repo: Path, *options: str, path: str = "data.bin", version: str = "1.0.0"
) -> CliResult:
    """Register a dataset artifact (created if missing) with --rows 10 unless given."""
    if not (repo / path).exists():
        write(repo, path, f"rows of {path}")
    if "--rows" not in options:
        options = (*options, "--rows", "10")
    result = cli("dataset-register", "--path", path, "--version", version, *options, cwd=repo)
    assert result.exit_code == 0, result.stderr
    return result


def manifest_json(repo: Path, relative: str = MODELS) -> Any:
    """Return the parsed manifest from the work tree."""
    return json.loads((repo / relative).read_text(encoding="utf-8"))
