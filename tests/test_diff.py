"""``gitreg diff`` between real commits, and against the work tree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from tests.workflow import (
    DATASETS,
    MODELS,
    commit_file,
    edit_manifest,
    publish_model,
    register_dataset,
)


@pytest.fixture
def history(cli: Any, repo: Path) -> tuple[Path, str, str]:
    """Two commits apart: a new forecast version with new metrics, and a new dataset."""
    commit_file(repo, "README.md", b"registry\n", "Start the registry")
    publish_model(cli, repo, "forecast", "1.0.0", metrics={"rmse": 0.12, "r2": 0.89}, client="acme")
    register_dataset(cli, repo, "sales", "1.0.0", rows=2)
    base = git(repo, "rev-parse", "HEAD").strip()
    publish_model(
        cli,
        repo,
        "forecast",
        "1.1.0",
        metrics={"rmse": 0.1, "r2": 0.91, "mae": 0.05},
        client="acme",
        release="v1.1.0",
    )
    publish_model(cli, repo, "churn", "0.1.0")
    register_dataset(cli, repo, "sales", "1.1.0", rows=5)
    head = git(repo, "rev-parse", "HEAD").strip()
    return repo, base, head


def test_diff_between_commits(cli: Any, history: tuple[Path, str, str]) -> None:
    repo, base, head = history
    result = cli("diff", base, "HEAD", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "## Registry changes\n"
        "\n"
        f"Comparing `{base[:12]}` with `{head[:12]}` (HEAD).\n"
        "\n"
        "### Models added (2)\n"
        "\n"
        "| Name | Version | Previous | Client | Release |\n"
        "|---|---|---|---|---|\n"
        "| `churn` | 0.1.0 | new | - | - |\n"
        "| `forecast` | 1.1.0 | 1.0.0 | acme | v1.1.0 |\n"
        "\n"
        "**`forecast` 1.1.0** compared with 1.0.0:\n"
        "\n"
        "| Metric | 1.0.0 | 1.1.0 | Change |\n"
        "|---|---:|---:|---:|\n"
        "| mae | - | 0.05 | new |\n"
        "| r2 | 0.89 | 0.91 | +0.02 (+2.2%) |\n"
        "| rmse | 0.12 | 0.1 | -0.02 (-16.7%) |\n"
        "\n"
        "### Datasets added (1)\n"
        "\n"
        "| Name | Version | Previous | Client | Release |\n"
        "|---|---|---|---|---|\n"
        "| `sales` | 1.1.0 | 1.0.0 | - | - |\n"
        "\n"
        "**`sales` 1.1.0** compared with 1.0.0:\n"
        "\n"
        "| Field | 1.0.0 | 1.1.0 | Change |\n"
        "|---|---:|---:|---:|\n"
        "| row_count | 2 | 5 | +3 (+150.0%) |\n"
    )


def test_diff_json(cli: Any, history: tuple[Path, str, str]) -> None:
    repo, base, head = history
    result = cli("diff", base, head, "--json", cwd=repo)
    document = json.loads(result.stdout)
    forecast = document["models"][1]
    assert forecast["previous_version"] == "1.0.0"
    assert forecast["changes"][2] == {
        "name": "rmse",
        "previous": 0.12,
        "current": 0.1,
        "change": pytest.approx(-0.02),
    }


def test_metric_removed(cli: Any, repo: Path) -> None:
    commit_file(repo, "README.md", b"registry\n")
    publish_model(cli, repo, "forecast", "1.0.0", metrics={"auc": 0.0, "rmse": 1})
    base = git(repo, "rev-parse", "HEAD").strip()
    publish_model(cli, repo, "forecast", "2.0.0", metrics={"auc": 0.5})
    result = cli("diff", base, "HEAD", cwd=repo)
    assert "| auc | 0.0 | 0.5 | +0.5 |\n" in result.stdout
    assert "| rmse | 1 | - | removed |\n" in result.stdout


def test_violations_listed_first(cli: Any, history: tuple[Path, str, str]) -> None:
    repo, base, _ = history

    def rewrite(document: dict[str, Any]) -> None:
        document["models"][1]["metrics"]["rmse"] = 0.01
        document["models"][1]["notes"] = "better"

    edit_manifest(repo, MODELS, rewrite)
    edit_manifest(repo, DATASETS, lambda document: document["datasets"].pop(0))
    result = cli("diff", base, cwd=repo)
    assert result.exit_code == 1
    assert result.stdout.index("### Violations (2)") < result.stdout.index("### Models added")
    assert "- model 'forecast' 1.0.0 was edited (metrics, notes changed)\n" in result.stdout
    assert "- dataset 'sales' 1.0.0 was removed\n" in result.stdout


def test_default_base_is_merge_base(cli: Any, history: tuple[Path, str, str]) -> None:
    repo, _, head = history
    git(repo, "switch", "-q", "-c", "feature")
    publish_model(cli, repo, "forecast", "1.2.0")
    result = cli("diff", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert f"Comparing `{head[:12]}` (merge base with main) with the work tree." in result.stdout
    assert "| `forecast` | 1.2.0 | 1.1.0 | - | - |" in result.stdout


def test_default_branch_from_origin(cli: Any, history: tuple[Path, str, str]) -> None:
    repo, base, _ = history
    git(repo, "update-ref", "refs/remotes/origin/trunk", base)
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    result = cli("diff", cwd=repo)
    assert "(merge base with origin/trunk)" in result.stdout


def test_no_changes(cli: Any, history: tuple[Path, str, str]) -> None:
    repo, _, _ = history
    result = cli("diff", "HEAD", cwd=repo)
    assert result.stdout.endswith("with the work tree.\n\nNo registry changes.\n")


def test_no_default_branch(cli: Any, history: tuple[Path, str, str]) -> None:
    repo, _, _ = history
    git(repo, "branch", "-q", "-m", "main", "trunk")
    result = cli("diff", cwd=repo)
    assert result.exit_code == 1
    assert "no default branch (origin/HEAD, main or master)" in result.stderr


def test_unrelated_default_branch(cli: Any, history: tuple[Path, str, str]) -> None:
    repo, _, _ = history
    git(repo, "switch", "-q", "--orphan", "master")
    git(repo, "commit", "-q", "--allow-empty", "-m", "Unrelated root")
    git(repo, "switch", "-q", "main")
    git(repo, "branch", "-q", "-m", "main", "feature")
    result = cli("diff", cwd=repo)
    assert result.exit_code == 1
    assert "HEAD and master have no common ancestor" in result.stderr


def test_unknown_revision(cli: Any, history: tuple[Path, str, str]) -> None:
    repo, _, _ = history
    result = cli("diff", "no-such-branch", cwd=repo)
    assert result.exit_code == 1
    assert "revision 'no-such-branch' not found" in result.stderr


def test_invalid_manifest_named(cli: Any, history: tuple[Path, str, str]) -> None:
    repo, _, _ = history
    (repo / MODELS).write_text("{", encoding="utf-8")
    result = cli("diff", "HEAD", cwd=repo)
    assert result.exit_code == 1
    assert f"{MODELS}:1:2: invalid JSON" in result.stderr


def test_empty_repository(cli: Any, repo: Path) -> None:
    result = cli("diff", cwd=repo)
    assert result.exit_code == 1
    assert "the repository has no commits" in result.stderr
