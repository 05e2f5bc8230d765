"""The manifest merge driver: real ``git merge`` of branches that both published."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from gitreg.errors import ManifestError
from gitreg.gitrepo import Repository
from gitreg.install import install_merge_driver
from gitreg.merge import detect_kind, merge_manifests
from tests.conftest import git
from tests.workflow import (
    DATASETS,
    MODELS,
    commit_file,
    load,
    publish_model,
    register_dataset,
    run_git,
)


def _start(cli: Any, repo: Path, *, driver: bool) -> None:
    commit_file(repo, "README.md", b"registry\n", "Start the registry")
    if driver:
        # 'gitreg hooks install' does the same; its hooks would only slow these tests.
        install_merge_driver(Repository.discover(repo), launcher=[sys.executable, "-m", "gitreg"])
        git(repo, "add", ".gitattributes")
        git(repo, "commit", "-q", "-m", "Merge manifests by entry")
    publish_model(cli, repo, "forecast", "1.0.0", metrics={"rmse": 0.12})
    register_dataset(cli, repo, "sales", "1.0.0", rows=2)


def _two_branches(cli: Any, repo: Path) -> None:
    git(repo, "switch", "-q", "-c", "alice")
    publish_model(cli, repo, "forecast", "1.1.0", metrics={"rmse": 0.11})
    register_dataset(cli, repo, "sales", "1.1.0", rows=3)
    git(repo, "switch", "-q", "-c", "bob", "main")
    publish_model(cli, repo, "forecast", "1.2.0", metrics={"rmse": 0.1})
    publish_model(cli, repo, "churn", "1.0.0")
    git(repo, "switch", "-q", "alice")


def _versions(repo: Path, path: str, key: str) -> list[tuple[str, str]]:
    return [(entry["name"], entry["version"]) for entry in load(repo, path)[key]]


def test_branches_merge_through_driver(cli: Any, repo: Path) -> None:
    _start(cli, repo, driver=True)
    _two_branches(cli, repo)
    result = run_git(repo, "merge", "--no-edit", "bob")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _versions(repo, MODELS, "models") == [
        ("churn", "1.0.0"),
        ("forecast", "1.0.0"),
        ("forecast", "1.1.0"),
        ("forecast", "1.2.0"),
    ]
    assert _versions(repo, DATASETS, "datasets") == [("sales", "1.0.0"), ("sales", "1.1.0")]
    canonical = json.dumps(load(repo, MODELS), indent=2, ensure_ascii=False) + "\n"
    assert (repo / MODELS).read_text(encoding="utf-8") == canonical
    verified = cli("verify", cwd=repo)
    assert verified.exit_code == 0, verified.stdout
    assert "Models checked: 4" in verified.stdout


def test_without_driver_git_conflicts(cli: Any, repo: Path) -> None:
    # The control case: git's line merge cannot combine two publishes.
    _start(cli, repo, driver=False)
    _two_branches(cli, repo)
    result = run_git(repo, "merge", "--no-edit", "bob")
    assert result.returncode == 1
    assert f"CONFLICT (content): Merge conflict in {MODELS}" in result.stdout


def test_same_version_conflicts(cli: Any, repo: Path) -> None:
    _start(cli, repo, driver=True)
    git(repo, "switch", "-q", "-c", "alice")
    publish_model(cli, repo, "forecast", "1.1.0", metrics={"rmse": 0.11})
    # Two clones would each have their own tag, but one repository has one, so drop it.
    git(repo, "tag", "-d", "model/forecast@v1.1.0")
    git(repo, "switch", "-q", "-c", "bob", "main")
    publish_model(cli, repo, "forecast", "1.1.0", metrics={"rmse": 0.09}, client="acme")
    result = run_git(repo, "merge", "--no-edit", "alice")
    assert result.returncode == 1
    assert "model 'forecast' 1.1.0 differs between the two sides" in result.stderr
    assert f"CONFLICT (content): Merge conflict in {MODELS}" in result.stdout
    text = (repo / MODELS).read_text(encoding="utf-8")
    assert text.count("<<<<<<< ours\n") == 1
    assert '"rmse": 0.09' in text.split("=======")[0]
    assert '"rmse": 0.11' in text.split("=======")[1]


# The merge itself ---------------------------------------------------------------------


def _entry(version: str, tail: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"0b9d2c51-3f3e-4b8a-9a55-{tail}",
        "name": fields.pop("name", "forecast"),
        "version": version,
        "type": "model",
        "created_at": "2025-01-01T00:00:00Z",
        "sha256": "a" * 64,
        "metrics": {},
        "artifacts": ["models/forecast.bin"],
        "cleanliness_score": None,
        "release_tag": None,
        "client": None,
        "notes": fields.pop("notes", None),
    }


def _manifest(updated_at: str, *entries: dict[str, Any]) -> bytes:
    document = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "version": "1.0.0",
        "updated_at": updated_at,
        "models": list(entries),
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def test_later_timestamp_wins() -> None:
    ours = _manifest("2025-01-01T00:00:00.5Z", _entry("1.0.0", "000000000001"))
    theirs = _manifest("2025-01-01T00:00:00Z", _entry("1.1.0", "000000000002"))
    result = merge_manifests(ours, theirs, kind="model", path=MODELS)
    assert json.loads(result.data)["updated_at"] == "2025-01-01T00:00:00.5Z"


def test_same_entry_on_both_sides_kept_once() -> None:
    side = _manifest("2025-01-01T00:00:00Z", _entry("1.0.0", "000000000001"))
    result = merge_manifests(side, side, kind="model", path=MODELS)
    assert result.data == side


def test_build_metadata_collision_conflicts() -> None:
    ours = _manifest("2025-01-01T00:00:00Z", _entry("1.0.0+a", "000000000001"))
    theirs = _manifest("2025-01-01T00:00:00Z", _entry("1.0.0+b", "000000000002"))
    result = merge_manifests(ours, theirs, kind="model", path=MODELS)
    assert str(result.conflicts[0]) == (
        "model 'forecast' 1.0.0+a differs between the two sides (id, version)"
    )


def test_conflict_markers_on_last_entry() -> None:
    ours = _manifest("2025-01-01T00:00:00Z", _entry("1.0.0", "000000000001", notes="ours"))
    theirs = _manifest("2025-01-01T00:00:00Z", _entry("1.0.0", "000000000001", notes="theirs"))
    text = merge_manifests(ours, theirs, kind="model", path=MODELS).data.decode()
    assert '      "notes": "ours"\n    }\n=======\n' in text


def test_empty_ancestor_side_allowed() -> None:
    theirs = _manifest("2025-01-01T00:00:00Z", _entry("1.0.0", "000000000001"))
    result = merge_manifests(b"", theirs, kind="model", path=MODELS)
    assert result.data == theirs


def test_detect_kind_from_path() -> None:
    assert detect_kind(b"<<<<<<<", path=DATASETS) == "dataset"


def test_detect_kind_unknown() -> None:
    with pytest.raises(ManifestError):
        detect_kind(b"[]", path="other.json")


def test_driver_leaves_broken_side(cli: Any, tmp_path: Path) -> None:
    ancestor, current, other = tmp_path / "O", tmp_path / "A", tmp_path / "B"
    ancestor.write_bytes(b"")
    current.write_bytes(b'{"models": [}')
    other.write_bytes(_manifest("2025-01-01T00:00:00Z"))
    result = cli("merge-driver", str(ancestor), str(current), str(other), MODELS, cwd=tmp_path)
    assert result.exit_code == 1
    assert f"{MODELS} (ours):1:13: invalid JSON" in result.stderr
    assert current.read_bytes() == b'{"models": [}'


def test_driver_merges_files(cli: Any, tmp_path: Path) -> None:
    ancestor, current, other = tmp_path / "O", tmp_path / "A", tmp_path / "B"
    ancestor.write_bytes(_manifest("2025-01-01T00:00:00Z"))
    current.write_bytes(_manifest("2025-01-02T00:00:00Z", _entry("1.0.0", "000000000001")))
    other.write_bytes(_manifest("2025-01-03T00:00:00Z", _entry("2.0.0", "000000000002")))
    result = cli("merge-driver", str(ancestor), str(current), str(other), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert [e["version"] for e in json.loads(current.read_bytes())["models"]] == ["1.0.0", "2.0.0"]


def test_driver_reports_conflict(cli: Any, tmp_path: Path) -> None:
    ancestor, current, other = tmp_path / "O", tmp_path / "A", tmp_path / "B"
    ancestor.write_bytes(b"")
    current.write_bytes(_manifest("2025-01-01T00:00:00Z", _entry("1.0.0", "000000000001")))
    other.write_bytes(
        _manifest("2025-01-01T00:00:00Z", _entry("1.0.0", "000000000001", notes="edited"))
    )
    result = cli("merge-driver", str(ancestor), str(current), str(other), MODELS, cwd=tmp_path)
    assert result.exit_code == 1
    assert f"gitreg: {MODELS}: model 'forecast' 1.0.0 differs between the two sides (notes)" in (
        result.stderr
    )
    assert b"<<<<<<< ours" in current.read_bytes()


def test_init_registers_driver(cli: Any, repo: Path) -> None:
    result = cli("init", "--no-sign", cwd=repo)
    assert result.exit_code == 0, result.stderr
    committed = git(repo, "show", "HEAD:.gitattributes").splitlines()
    assert f"{MODELS} merge=gitreg" in committed
    assert f"{DATASETS} merge=gitreg" in committed
    driver = git(repo, "config", "merge.gitreg.driver").strip()
    assert driver == f"{sys.executable} -m gitreg merge-driver %O %A %B %P"
