"""The hooks of ``.pre-commit-hooks.yaml``, run by the real pre-commit framework.

pre-commit installs a hook repository from a git commit, so the fixture copies
this checkout's package and hook files into a temporary repository and commits
them. The tests therefore run the files as they are now, committed or not. The
hooks use ``language: python``: pre-commit builds a virtualenv and pip-installs
gitreg and its dependencies there, from whatever sources pip is configured with
(a local wheel folder or an index). That install happens once per test session.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from tests.workflow import DATASETS, MODELS, commit_file, edit_manifest, publish_model

CHECKOUT = Path(__file__).resolve().parent.parent
_COPIED = ("pyproject.toml", "README.md", "gitreg", ".pre-commit-hooks.yaml")


@pytest.fixture(scope="session")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository holding this checkout's hooks; returns its path and commit."""
    target = tmp_path_factory.mktemp("hook-repository")
    for name in _COPIED:
        source = CHECKOUT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    identity = ["-c", "user.name=Hook Author", "-c", "user.email=hooks@example.com"]
    commands = (["init", "-q", "-b", "main"], ["add", "-A"], [*identity, "commit", "-qm", "Hooks"])
    for command in commands:
        subprocess.run(["git", *command], cwd=target, check=True, capture_output=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=target, check=True, capture_output=True, text=True
    ).stdout.strip()
    return target, commit


@pytest.fixture(scope="session")
def precommit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit cache for the session, so the hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def framework_repo(
    cli: Any,
    repo: Path,
    hook_repository: tuple[Path, str],
    precommit_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A registry with one published model and a .pre-commit-config.yaml using gitreg's hooks."""
    monkeypatch.setenv("PRE_COMMIT_HOME", str(precommit_home))
    path, commit = hook_repository
    config = (
        "repos:\n"
        f"  - repo: {path}\n"
        f"    rev: {commit}\n"
        "    hooks:\n"
        "      - id: gitreg-validate\n"
        "      - id: gitreg-append-only\n"
    )
    commit_file(repo, ".pre-commit-config.yaml", config.encode(), "Use gitreg's hooks")
    publish_model(cli, repo, "forecast", "1.0.0", metrics={"rmse": 0.12})
    return repo


def _pre_commit(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def test_framework_passes_clean_registry(framework_repo: Path) -> None:
    result = _pre_commit(framework_repo)
    assert result.returncode == 0, result.stdout + result.stderr


def test_framework_rejects_hand_edit(framework_repo: Path) -> None:
    def set_metric(document: dict[str, Any]) -> None:
        document["models"][0]["metrics"]["rmse"] = 0.01

    edit_manifest(framework_repo, MODELS, set_metric)
    git(framework_repo, "add", MODELS)
    result = _pre_commit(framework_repo)
    assert result.returncode == 1
    assert "model 'forecast' 1.0.0 was edited (metrics changed)" in result.stdout


def test_framework_rejects_invalid_manifest(framework_repo: Path) -> None:
    (framework_repo / DATASETS).parent.mkdir(parents=True, exist_ok=True)
    (framework_repo / DATASETS).write_text('{"datasets": [}\n', encoding="utf-8")
    git(framework_repo, "add", DATASETS)
    result = _pre_commit(framework_repo)
    assert result.returncode == 1
    assert f"{DATASETS}:1:15: invalid JSON" in result.stdout
