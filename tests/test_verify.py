"""``verify`` of the current state: every problem named, exit 1 on any."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from gitreg.gitrepo import Repository
from gitreg.verify import verify_current
from tests.conftest import Cli, git
from tests.helpers import DATASETS, MODELS, commit, publish_model, register_dataset


@pytest.fixture
def registry(cli: Cli, repo: Path) -> Path:
    """A model with two versions and a dataset, all artifacts committed."""
    commit(repo, {"models/a.bin": b"a", "models/b.bin": b"b", "data/d.csv": "x,y\n1,2\n"})
    publish_model(cli, repo, "--name", "forecast", path="models/a.bin")
    publish_model(cli, repo, "--name", "forecast", path="models/b.bin", version="1.1.0")
    register_dataset(cli, repo, "--rows", "1", path="data/d.csv")
    return repo


def _verify(cli: Cli, repo: Path, *args: str) -> tuple[int, list[str]]:
    result = cli("verify", *args, cwd=repo)
    return result.exit_code, result.stdout.splitlines()


def test_clean_registry_passes(cli: Cli, registry: Path) -> None:
    code, lines = _verify(cli, registry)
    assert code == 0
    assert lines[:3] == [
        "Verifying registry integrity...",
        "Models checked: 2",
        "Datasets checked: 1",
    ]
    assert lines[-1] == "✓ All integrity checks passed"


def test_empty_registry_passes(cli: Cli, repo: Path) -> None:
    code, lines = _verify(cli, repo)
    assert code == 0
    assert lines[1] == "Models checked: 0"


def test_changed_byte_fails(cli: Cli, registry: Path) -> None:
    (registry / "models/b.bin").write_bytes(b"c")
    code, lines = _verify(cli, registry)
    assert code == 1
    assert "✗ 1 problem found:" in lines
    problem = lines[-1]
    assert problem.startswith("  - model/forecast@v1.1.0: hash mismatch detected for models/b.bin")


def test_deleted_artifact_fails(cli: Cli, registry: Path) -> None:
    (registry / "models/a.bin").unlink()
    code, lines = _verify(cli, registry)
    assert code == 1
    assert lines[-1] == "  - model/forecast@v1.0.0: artifact not found: 'models/a.bin'"


def test_missing_tag_fails(cli: Cli, registry: Path) -> None:
    git(registry, "tag", "-d", "dataset/d@v1.0.0")
    code, lines = _verify(cli, registry)
    assert code == 1
    assert lines[-1].startswith("  - dataset/d@v1.0.0: tag is missing")


def test_orphan_tag_fails(cli: Cli, registry: Path) -> None:
    git(registry, "tag", "model/ghost@v1.0.0")
    code, lines = _verify(cli, registry)
    assert code == 1
    assert f"  - model/ghost@v1.0.0: tag has no entry in {MODELS}" in lines


def test_invalid_json_manifest_fails(cli: Cli, registry: Path) -> None:
    manifest = registry / MODELS
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('"models": [', '"models": [,', 1), encoding="utf-8")
    code, lines = _verify(cli, registry)
    assert code == 1
    assert lines[-1].startswith(f"  - {MODELS}:5:14: invalid JSON")
    assert "Models checked: 0" in lines


def test_schema_violation_fails(cli: Cli, registry: Path) -> None:
    manifest = registry / DATASETS
    document = json.loads(manifest.read_text(encoding="utf-8"))
    document["datasets"][0]["row_count"] = -1
    manifest.write_text(json.dumps(document, indent=2), encoding="utf-8")
    code, lines = _verify(cli, registry)
    assert code == 1
    assert lines[-1].startswith(f"  - {DATASETS}:")
    assert "$.datasets[0].row_count" in lines[-1]


def test_hand_added_duplicate_fails(cli: Cli, registry: Path) -> None:
    manifest = registry / MODELS
    document = json.loads(manifest.read_text(encoding="utf-8"))
    copy = dict(document["models"][0], version="1.0.0+copy")
    document["models"].append(copy)
    manifest.write_text(json.dumps(document, indent=2), encoding="utf-8")
    code, lines = _verify(cli, registry)
    assert code == 1
    assert "has two entries for version 1.0.0 and 1.0.0+copy" in lines[-1]


def test_oversized_manifest_fails(cli: Cli, registry: Path) -> None:
    (registry / DATASETS).write_bytes(b" " * 10_000_001)
    code, lines = _verify(cli, registry)
    assert code == 1
    assert lines[-1] == f"  - {DATASETS}: manifest exceeds 10 MB (10,000,001 bytes)"


def test_every_problem_listed(cli: Cli, registry: Path) -> None:
    (registry / "models/a.bin").unlink()
    (registry / "models/b.bin").write_bytes(b"changed")
    git(registry, "tag", "-d", "dataset/d@v1.0.0")
    code, lines = _verify(cli, registry)
    assert code == 1
    assert "✗ 3 problems found:" in lines


def test_json_report_shape(cli: Cli, registry: Path) -> None:
    (registry / "models/a.bin").unlink()
    result = cli("verify", "--json", cwd=registry)
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["valid"] is False
    assert report["errors"] == ["model/forecast@v1.0.0: artifact not found: 'models/a.bin'"]
    assert isinstance(report["warnings"], list)
    assert report["models_checked"] == 2
    assert report["datasets_checked"] == 1
    assert report["artifacts_hashed"] == 2
    assert [check["name"] for check in report["checks"]][:4] == [
        "repository",
        "manifests",
        "artifacts",
        "tags",
    ]
    assert set(report["checks"][2]) == {"name", "description", "passed", "skipped", "failures"}


def test_json_report_valid(cli: Cli, registry: Path) -> None:
    result = cli("verify", "--json", cwd=registry)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["valid"] is True


def test_no_hash_skips_rehash(cli: Cli, registry: Path) -> None:
    (registry / "models/b.bin").write_bytes(b"changed")
    code, lines = _verify(cli, registry, "--no-hash")
    assert code == 0
    assert "! artifact hashes were not checked (--no-hash)" in lines


def test_no_hash_still_finds_missing(cli: Cli, registry: Path) -> None:
    (registry / "models/a.bin").unlink()
    code, _ = _verify(cli, registry, "--no-hash")
    assert code == 1


def test_shared_artifact_hashed_once(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"weights"})
    publish_model(cli, repo)
    publish_model(cli, repo, version="2.0.0")
    report = verify_current(Repository.discover(repo))
    assert report.valid
    assert report.artifacts_hashed == 1


def test_shallow_clone_fails(cli: Cli, registry: Path, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{registry}", str(clone))
    code, lines = _verify(cli, clone, "--no-hash")
    assert code == 1
    assert any("the clone is shallow" in line for line in lines)


def test_bare_repository_rejected(cli: Cli, registry: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    pygit2.clone_repository(str(registry), str(bare), bare=True)
    result = cli("verify", cwd=bare)
    assert result.exit_code == 1
    assert "is a bare repository" in result.stderr


def test_progress_on_terminal(
    cli: Cli, registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, lines = _verify(cli, registry)
    assert code == 0
    assert lines[-1] == "✓ All integrity checks passed"
