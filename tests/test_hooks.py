"""The commit hooks: the plain git hook through real commits, and ``gitreg hooks install``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitreg import hooks
from gitreg.gitrepo import Repository
from gitreg.install import HOOK_MARKER, hook_script, install_merge_driver
from tests.conftest import git
from tests.workflow import (
    DATASETS,
    MODELS,
    commit_file,
    edit_manifest,
    publish_model,
    register_dataset,
    run_git,
)


@pytest.fixture
def hooked(cli: Any, repo: Path) -> Path:
    """A repository with one published model, one dataset and the hooks installed."""
    commit_file(repo, "README.md", b"registry\n", "Start the registry")
    publish_model(cli, repo, "forecast", "1.0.0", metrics={"rmse": 0.12})
    register_dataset(cli, repo, "sales", "1.0.0", rows=3)
    result = cli("hooks", "install", cwd=repo)
    assert result.exit_code == 0, result.stderr
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "Merge manifests by entry")
    return repo


def _set_metric(document: dict[str, Any]) -> None:
    document["models"][0]["metrics"]["rmse"] = 0.01


def test_hand_edit_rejected(hooked: Path) -> None:
    edit_manifest(hooked, MODELS, _set_metric)
    git(hooked, "add", MODELS)
    result = run_git(hooked, "commit", "-m", "Improve the numbers")
    assert result.returncode == 1
    assert "model 'forecast' 1.0.0 was edited (metrics changed)" in result.stderr
    assert f"{MODELS}:6:5: $.models[0]" in result.stderr
    assert run_git(hooked, "log", "-1", "--format=%s").stdout == "Merge manifests by entry\n"


def test_removed_entry_rejected(hooked: Path) -> None:
    edit_manifest(hooked, DATASETS, lambda document: document["datasets"].clear())
    git(hooked, "add", DATASETS)
    result = run_git(hooked, "commit", "-m", "Drop the dataset")
    assert result.returncode == 1
    assert "dataset 'sales' 1.0.0 was removed" in result.stderr


def test_deleted_manifest_rejected(hooked: Path) -> None:
    git(hooked, "rm", "-q", DATASETS)
    result = run_git(hooked, "commit", "-m", "Drop the catalog")
    assert result.returncode == 1
    assert "dataset 'sales' 1.0.0 was removed" in result.stderr


def test_commit_all_checks_temporary_index(hooked: Path) -> None:
    # 'git commit -a' stages into a temporary index that only GIT_INDEX_FILE names.
    edit_manifest(hooked, MODELS, _set_metric)
    result = run_git(hooked, "commit", "-a", "-m", "Improve the numbers")
    assert result.returncode == 1
    assert "model 'forecast' 1.0.0 was edited" in result.stderr


def test_invalid_json_rejected_with_position(hooked: Path) -> None:
    text = (hooked / MODELS).read_text(encoding="utf-8")
    (hooked / MODELS).write_text(text.replace('"rmse": 0.12', '"rmse": 0.12,'), encoding="utf-8")
    git(hooked, "add", MODELS)
    result = run_git(hooked, "commit", "-m", "Break the manifest")
    assert result.returncode == 1
    assert f"{MODELS}:15:7: invalid JSON" in result.stderr


def test_schema_problem_rejected_with_path(hooked: Path) -> None:
    def break_score(document: dict[str, Any]) -> None:
        document["models"][0]["cleanliness_score"] = 101

    edit_manifest(hooked, MODELS, break_score)
    git(hooked, "add", MODELS)
    result = run_git(hooked, "commit", "-m", "Raise the score")
    assert result.returncode == 1
    assert f"{MODELS}:19:28: $.models[0].cleanliness_score: 101 is greater than" in result.stderr


def test_good_commit_passes(hooked: Path) -> None:
    result = run_git(hooked, "commit", "--allow-empty", "-m", "Nothing to check")
    assert result.returncode == 0, result.stderr


def test_new_entry_by_hand_passes(hooked: Path) -> None:
    def add_version(document: dict[str, Any]) -> None:
        entry = dict(document["models"][0], version="1.1.0")
        entry["id"] = "0b9d2c51-3f3e-4b8a-9a55-4e6f1d1c2b3a"
        document["models"].append(entry)

    edit_manifest(hooked, MODELS, add_version)
    git(hooked, "add", MODELS)
    result = run_git(hooked, "commit", "-m", "Add 1.1.0 by hand")
    assert result.returncode == 0, result.stderr


def test_merge_commit_hook_passes(cli: Any, hooked: Path) -> None:
    # 'git merge' runs pre-merge-commit on the merged index, which the driver built.
    git(hooked, "switch", "-q", "-c", "side")
    publish_model(cli, hooked, "forecast", "1.1.0")
    git(hooked, "switch", "-q", "main")
    publish_model(cli, hooked, "churn", "1.0.0")
    result = run_git(hooked, "merge", "--no-edit", "side")
    assert result.returncode == 0, result.stdout + result.stderr
    assert run_git(hooked, "rev-list", "--count", "--merges", "HEAD").stdout == "1\n"


def test_merge_of_hand_edit_rejected(hooked: Path) -> None:
    git(hooked, "switch", "-q", "-c", "side")
    edit_manifest(hooked, MODELS, _set_metric)
    git(hooked, "commit", "-q", "--no-verify", "-am", "Edit by hand")
    git(hooked, "switch", "-q", "main")
    git(hooked, "commit", "-q", "--allow-empty", "-m", "Move main on")
    result = run_git(hooked, "merge", "--no-edit", "side")
    assert result.returncode == 1
    assert "model 'forecast' 1.0.0 was edited (metrics changed)" in result.stderr


# The checks on bytes --------------------------------------------------------------


def _manifest(entries: list[dict[str, Any]]) -> bytes:
    document = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "version": "1.0.0",
        "updated_at": "2025-01-01T00:00:00Z",
        "models": entries,
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def _entry(version: str, uuid_tail: str = "000000000001") -> dict[str, Any]:
    return {
        "id": f"0b9d2c51-3f3e-4b8a-9a55-{uuid_tail}",
        "name": "forecast",
        "version": version,
        "type": "model",
        "created_at": "2025-01-01T00:00:00Z",
        "sha256": "a" * 64,
        "metrics": {},
        "artifacts": ["models/forecast.bin"],
        "cleanliness_score": None,
        "release_tag": None,
        "client": None,
        "notes": None,
    }


def test_validate_duplicate_precedence() -> None:
    data = _manifest([_entry("1.0.0+a"), _entry("1.0.0+b", "000000000002")])
    problems = hooks.validate(data, kind="model", source=MODELS)
    assert [str(p) for p in problems] == [
        f"{MODELS}:25:18: $.models[1].version: model 'forecast' version 1.0.0+b duplicates "
        "version 1.0.0+a (each name and version may appear once)"
    ]


def test_validate_bad_semver() -> None:
    problems = hooks.validate(_manifest([_entry("01.0.0")]), kind="model", source=MODELS)
    assert str(problems[0]) == (
        f"{MODELS}:9:18: $.models[0].version: version '01.0.0' is not valid SemVer 2.0.0 "
        "(leading zero; write 1.2.3 instead of 01.2.3)"
    )


def test_validate_missing_key_points_at_object() -> None:
    entry = _entry("1.0.0")
    del entry["notes"]
    problems = hooks.validate(_manifest([entry]), kind="model", source=MODELS)
    assert str(problems[0]) == f"{MODELS}:6:5: $.models[0]: 'notes' is a required property"


def test_validate_bad_name() -> None:
    entry = _entry("1.0.0")
    entry["name"] = "forecast.lock"
    problems = hooks.validate(_manifest([entry]), kind="model", source=MODELS)
    assert str(problems[0]) == (
        f"{MODELS}:8:15: $.models[0].name: name 'forecast.lock' is not valid: "
        "it must not contain '..' or end with '.' or '.lock'"
    )


def test_validate_non_string_version() -> None:
    problems = hooks.validate(_manifest([_entry(1)]), kind="model", source=MODELS)  # type: ignore[arg-type]
    assert str(problems[0]).endswith("$.models[0].version: 1 is not of type 'string'")


def test_validate_size_beyond_schema() -> None:
    # Whitespace keeps the JSON valid while pushing the file over the 10 MB limit.
    data = _manifest([_entry("1.0.0")]) + b" " * 10_000_000
    problems = hooks.validate(data, kind="model", source=MODELS)
    assert str(problems[0]).startswith(f"{MODELS}: manifest exceeds 10 MB")


def test_validate_accepts_good_manifest() -> None:
    assert hooks.validate(_manifest([_entry("1.0.0")]), kind="model", source=MODELS) == []


def test_append_only_unreadable_head_skipped() -> None:
    staged = _manifest([_entry("1.0.0")])
    assert hooks.append_only(b"{", staged, kind="model", source=MODELS) == []


def test_append_only_invalid_staged() -> None:
    published = _manifest([_entry("1.0.0")])
    problems = hooks.append_only(published, b"{", kind="model", source=MODELS)
    assert "cannot compare with HEAD" in str(problems[0])


def test_append_only_new_manifest() -> None:
    assert hooks.append_only(None, b"{", kind="model", source=MODELS) == []


def test_hook_files_filter(cli: Any, hooked: Path) -> None:
    edit_manifest(hooked, MODELS, _set_metric)
    git(hooked, "add", MODELS)
    result = cli("hook", "append-only", DATASETS, "README.md", cwd=hooked)
    assert result.exit_code == 0


def test_hook_validate_named_file(cli: Any, hooked: Path) -> None:
    (hooked / MODELS).write_text("[]\n", encoding="utf-8")
    git(hooked, "add", MODELS)
    result = cli("hook", "validate", f"./{MODELS}", cwd=hooked)
    assert result.exit_code == 1
    assert f"{MODELS}:1:1: $: [] is not of type 'object'" in result.stderr


def test_hook_names_edit_in_process(cli: Any, hooked: Path) -> None:
    edit_manifest(hooked, MODELS, _set_metric)
    git(hooked, "add", MODELS)
    result = cli("hook", "append-only", cwd=hooked)
    assert result.exit_code == 1
    assert f"{MODELS}:6:5: $.models[0]: model 'forecast' 1.0.0 was edited" in result.stderr


def test_hook_names_removal_in_process(cli: Any, hooked: Path) -> None:
    git(hooked, "rm", "-q", "--cached", DATASETS)
    result = cli("hook", "append-only", cwd=hooked)
    assert result.exit_code == 1
    assert f"{DATASETS}: dataset 'sales' 1.0.0 was removed" in result.stderr


def test_hook_reports_syntax_in_process(cli: Any, hooked: Path) -> None:
    (hooked / MODELS).write_text('{"models": [}', encoding="utf-8")
    git(hooked, "add", MODELS)
    result = cli("hook", "validate", cwd=hooked)
    assert result.exit_code == 1
    assert f"{MODELS}:1:13: invalid JSON" in result.stderr


def test_hook_reads_git_index_file(cli: Any, hooked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stage the edit into a second index only, as 'git commit -a' does.
    shutil.copy(hooked / ".git" / "index", hooked / ".git" / "index.commit")
    edit_manifest(hooked, MODELS, _set_metric)
    env = {**os.environ, "GIT_INDEX_FILE": ".git/index.commit"}
    subprocess.run(["git", "add", MODELS], cwd=hooked, env=env, check=True)
    assert cli("hook", "append-only", cwd=hooked).exit_code == 0
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/index.commit")
    result = cli("hook", "append-only", cwd=hooked)
    assert result.exit_code == 1


def test_hook_check_runs_both(cli: Any, hooked: Path) -> None:
    edit_manifest(hooked, MODELS, _set_metric)
    git(hooked, "add", MODELS)
    result = cli("hook", "check", cwd=hooked)
    assert result.exit_code == 1
    assert "gitreg append-only: 1 problem(s)" in result.stderr


def test_hook_check_stops_after_validate(cli: Any, hooked: Path) -> None:
    (hooked / MODELS).write_text("{", encoding="utf-8")
    git(hooked, "add", MODELS)
    result = cli("hook", "check", cwd=hooked)
    assert "gitreg validate: 1 problem(s)" in result.stderr
    assert "append-only" not in result.stderr


def test_hook_passes_without_manifests(cli: Any, repo: Path) -> None:
    commit_file(repo, "README.md", b"registry\n")
    assert cli("hook", "validate", cwd=repo).exit_code == 0


# Installing -----------------------------------------------------------------------


def test_install_writes_launcher(hooked: Path) -> None:
    script = (hooked / ".git" / "hooks" / "pre-commit").read_text(encoding="utf-8")
    assert f'run_gitreg() {{ {sys.executable} -m gitreg "$@"; }}' in script


def test_install_both_hooks(hooked: Path) -> None:
    script = (hooked / ".git" / "hooks" / "pre-merge-commit").read_text(encoding="utf-8")
    assert HOOK_MARKER in script


def test_install_registers_driver(hooked: Path) -> None:
    driver = git(hooked, "config", "merge.gitreg.driver").strip()
    assert driver == f"{sys.executable} -m gitreg merge-driver %O %A %B %P"


def test_install_adds_attributes(hooked: Path) -> None:
    attributes = (hooked / ".gitattributes").read_text(encoding="utf-8")
    assert attributes == f"{MODELS} merge=gitreg\n{DATASETS} merge=gitreg\n"


def test_install_twice_changes_nothing(cli: Any, hooked: Path) -> None:
    result = cli("hooks", "install", cwd=hooked)
    assert result.exit_code == 0
    assert "gitattributes" not in result.stdout


def test_driver_keeps_other_attributes(repo: Path) -> None:
    (repo / ".gitattributes").write_text(f"*.bin binary\n{MODELS} merge=gitreg", encoding="utf-8")
    added = install_merge_driver(Repository.discover(repo))
    assert (repo / ".gitattributes").read_text(encoding="utf-8") == (
        f"*.bin binary\n{MODELS} merge=gitreg\n{DATASETS} merge=gitreg\n"
    )
    assert added == [f"{DATASETS} merge=gitreg"]


def test_foreign_hook_kept(cli: Any, repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-merge-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    result = cli("hooks", "install", cwd=repo)
    assert result.exit_code == 1
    assert "pre-merge-commit already exists and was not installed by gitreg" in result.stderr
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert not (repo / ".gitattributes").exists()


def test_force_backs_up_foreign_hook(cli: Any, repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho mine\n", encoding="utf-8")
    result = cli("hooks", "install", "--force", cwd=repo)
    assert result.exit_code == 0, result.stderr
    backup = hook.with_name("pre-commit.gitreg-backup")
    assert backup.read_text(encoding="utf-8") == "#!/bin/sh\necho mine\n"
    assert HOOK_MARKER in hook.read_text(encoding="utf-8")


def test_install_follows_hooks_path(cli: Any, repo: Path) -> None:
    git(repo, "config", "core.hooksPath", "githooks")
    result = cli("hooks", "install", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert (repo / "githooks" / "pre-commit").is_file()


def test_shipped_hook_uses_path() -> None:
    # The script in hooks/ is meant to be copied by hand, so it starts 'gitreg' from PATH.
    shipped = Path(__file__).parent.parent / "hooks" / "pre-commit"
    assert shipped.read_text(encoding="utf-8") == hook_script(["gitreg"])
