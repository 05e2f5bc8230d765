"""The main job (``make demo``) end to end, and the pieces that keep it isolated."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest

from demo import run_demo, training
from demo.sandbox import MARKER, Shell, StepFailedError, find_gitreg, reset_output_dir
from tests.conftest import git

ROOT = Path(__file__).resolve().parents[1]
MODEL = "diabetes_regressor"


@dataclass(frozen=True)
class DemoRun:
    """One run of the demo script as a user would start it."""

    exit_code: int
    output: str
    registry: Path
    user_config: Path
    user_config_before: bytes


def _hostile_home(home: Path) -> Path:
    """A user's HOME whose git settings would break the demo if it read them."""
    hooks = home / "hooks"
    hooks.mkdir(parents=True)
    pre_commit = hooks / "pre-commit"
    pre_commit.write_text("#!/bin/sh\necho 'user hook ran' >&2\nexit 1\n", encoding="utf-8")
    pre_commit.chmod(0o755)
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Someone Else\n\temail = someone@example.org\n"
        f"[core]\n\thooksPath = {hooks}\n[gpg]\n\tformat = openpgp\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    base = tmp_path_factory.mktemp("demo")
    home = base / "user-home"
    config = _hostile_home(home)
    before = config.read_bytes()
    env = {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(config)}
    out = base / "out"
    result = subprocess.run(
        [sys.executable, str(ROOT / "demo" / "run_demo.py"), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return DemoRun(
        exit_code=result.returncode,
        output=result.stdout + result.stderr,
        registry=out / "registry",
        user_config=config,
        user_config_before=before,
    )


def _fetch(cli: object, registry: Path, *args: str) -> dict[str, object]:
    result = cli("fetch", *args, "--json", cwd=registry)  # type: ignore[operator]
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_demo_exits_zero(demo_run: DemoRun) -> None:
    assert demo_run.exit_code == 0, demo_run.output


def test_demo_shows_commands(demo_run: DemoRun) -> None:
    assert "$ gitreg verify\n" in demo_run.output


def test_demo_user_config_untouched(demo_run: DemoRun) -> None:
    assert demo_run.user_config.read_bytes() == demo_run.user_config_before


def test_demo_registry_verifies(cli: object, demo_run: DemoRun) -> None:
    result = cli("verify", "--json", cwd=demo_run.registry)  # type: ignore[operator]
    report = json.loads(result.stdout)
    assert report["valid"] is True, report["errors"]
    assert report["models_checked"] == 2
    assert report["datasets_checked"] == 1
    assert report["warnings"] == []


def test_demo_signatures_all_checked(cli: object, demo_run: DemoRun) -> None:
    result = cli("verify", "--json", cwd=demo_run.registry)  # type: ignore[operator]
    report = json.loads(result.stdout)
    assert report["signatures_checked"] == 7


def test_demo_dataset_true_rows(cli: object, demo_run: DemoRun) -> None:
    entry = _fetch(cli, demo_run.registry, "--name", "diabetes", "--type", "dataset")
    assert entry["row_count"] == 442


def test_demo_dataset_schema_hash(cli: object, demo_run: DemoRun) -> None:
    entry = _fetch(cli, demo_run.registry, "--name", "diabetes", "--type", "dataset")
    assert isinstance(entry["schema_hash"], str)


def test_demo_latest_is_1_1_0(cli: object, demo_run: DemoRun) -> None:
    entry = _fetch(cli, demo_run.registry, "--name", MODEL, "--type", "model")
    assert entry["version"] == "1.1.0"


def test_demo_metrics_match_models(cli: object, demo_run: DemoRun) -> None:
    split = training.load_split(demo_run.registry / "data" / "diabetes.parquet")
    for version in ("1.0.0", "1.1.0"):
        entry = _fetch(
            cli, demo_run.registry, "--name", MODEL, "--type", "model", "--version", version
        )
        artifact = demo_run.registry / entry["artifacts"][0]  # type: ignore[index]
        estimator = pickle.loads(artifact.read_bytes())
        assert entry["metrics"] == training.evaluate(estimator, split), version


def test_demo_commits_and_tags_signed(demo_run: DemoRun) -> None:
    commits = git(demo_run.registry, "rev-list", "HEAD").split()
    tags = git(demo_run.registry, "tag").split()
    for commit in commits:
        git(demo_run.registry, "verify-commit", commit)
    for tag in tags:
        git(demo_run.registry, "verify-tag", tag)
    assert len(commits) == 7
    assert sorted(tags) == [
        "dataset/diabetes@v1.0.0",
        f"model/{MODEL}@v1.0.0",
        f"model/{MODEL}@v1.1.0",
    ]


def test_demo_author_is_pinned(demo_run: DemoRun) -> None:
    authors = set(git(demo_run.registry, "log", "--format=%an <%ae>").splitlines())
    assert authors == {"gitreg demo <demo@example.com>"}


def test_reset_deletes_previous_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    reset_output_dir(out)
    (out / "stale.txt").write_text("old", encoding="utf-8")
    reset_output_dir(out)
    assert sorted(p.name for p in out.iterdir()) == [MARKER]


def test_reset_keeps_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(StepFailedError, match="not made by the demo"):
        reset_output_dir(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_reset_rejects_file(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("", encoding="utf-8")
    with pytest.raises(StepFailedError, match="is a file"):
        reset_output_dir(target)


def test_shell_failing_command_raises(tmp_path: Path) -> None:
    shell = Shell(cwd=tmp_path, env=dict(os.environ), gitreg_program=find_gitreg())
    with pytest.raises(StepFailedError, match="exited with 1"):
        shell.git("no-such-command")


def test_shell_missing_program_raises(tmp_path: Path) -> None:
    shell = Shell(cwd=tmp_path, env=dict(os.environ), gitreg_program=find_gitreg())
    with pytest.raises(StepFailedError, match="not found"):
        shell.run("gitreg-no-such-program")


def test_demo_main_reports_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    code = run_demo.main(["--out", str(tmp_path)])
    assert code == 1
    assert "demo failed:" in capsys.readouterr().err


def test_cleanliness_counts_gaps_and_duplicates() -> None:
    table = pa.table({"a": [1.0, 1.0, float("nan"), 4.0], "b": [2.0, 2.0, 3.0, 5.0]})
    assert training.cleanliness_score(table) == 50


def test_cleanliness_of_empty_table() -> None:
    assert training.cleanliness_score(pa.table({"a": pa.array([], pa.float64())})) == 0
