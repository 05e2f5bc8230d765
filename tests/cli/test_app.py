"""The command line's error mapping: exit codes, one-line errors, crash reports."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest
import typer

from gitreg import registry
from tests.conftest import Cli
from tests.helpers import publish_model


def test_repo_option_not_directory(cli: Cli, tmp_path: Path) -> None:
    result = cli("-C", str(tmp_path / "nowhere"), "stats", cwd=tmp_path)
    assert result.exit_code == 2
    assert "--repo" in result.stderr
    assert "is not a directory" in result.stderr


def test_missing_required_option(cli: Cli, repo: Path) -> None:
    result = cli("model-publish", "--version", "1.0.0", cwd=repo)
    assert result.exit_code == 2
    assert "Missing option '--path'" in result.stderr


def test_non_integer_option(cli: Cli, repo: Path) -> None:
    result = cli("model-publish", "--path", "m", "--version", "1.0.0", "--cleanliness", "high",
                 cwd=repo)
    assert result.exit_code == 2
    assert "Invalid value for '--cleanliness'" in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["model-publish", "--cleanliness", "93.5"], "'93.5'"),
        (["model-publish", "--cleanliness", "abc"], "'abc'"),
        (["list", "--type", "foo"], "'foo'"),
        (["dataset-register", "--rows", "1.5"], "'1.5'"),
        (["stats", "--bogus"], "'--bogus'"),
    ],
)
def test_usage_error_one_line(cli: Cli, repo: Path, args: list[str], named: str) -> None:
    result = cli(*args, cwd=repo)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert named in result.stderr
    assert result.stderr.startswith("error: ")
    assert f"(run 'gitreg {args[0]} --help' for the options)" in result.stderr


def test_usage_error_root_points_to_help(cli: Cli, repo: Path) -> None:
    result = cli("no-such-command", cwd=repo)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "(run 'gitreg --help' for the commands and options)" in result.stderr


def test_usage_error_one_suggestion_list(cli: Cli, repo: Path) -> None:
    result = cli("dataset-publish", cwd=repo)
    assert result.stderr.count("Did you mean") == 1


def test_usage_error_no_usage_block(cli: Cli, repo: Path) -> None:
    result = cli("model-publish", "--cleanliness", "abc", cwd=repo)
    assert "Usage:" not in result.stderr


def test_group_without_subcommand_shows_help(cli: Cli, repo: Path) -> None:
    result = cli("api-key", cwd=repo)
    assert result.exit_code == 2
    assert "Usage:" in result.stdout + result.stderr


def test_unexpected_error_reported(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(registry, "load_manifest", broken)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    result = cli("stats", cwd=repo)
    reports = list(tmp_path.glob("gitreg-crash-*.txt"))
    assert result.exit_code == 3
    assert "error: unexpected RuntimeError: disk on fire" in result.stderr
    assert len(reports) == 1
    assert "Traceback" in reports[0].read_text(encoding="utf-8")
    assert "Traceback" not in result.stderr


def test_abort_exits_one(cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def aborted(*_args: object) -> None:
        raise typer.Abort

    monkeypatch.setattr(registry, "load_manifest", aborted)
    result = cli("stats", cwd=repo)
    assert result.exit_code == 1
    assert result.stderr == "Aborted.\n"


def test_interrupt_exits_130(cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(registry, "load_manifest", interrupted)
    result = cli("stats", cwd=repo)
    assert result.exit_code == 130


def test_verbose_logs_to_stderr(cli: Cli, repo: Path) -> None:
    result = publish_model(cli, repo, "--name", "quiet")
    loud = cli("-v", "model-publish", "--path", "model.bin", "--version", "2.0.0", cwd=repo)
    assert "INFO" not in result.stderr
    assert "gitreg: INFO: published model/model@v2.0.0" in loud.stderr
    assert "published" not in loud.stdout.lower().replace("model published", "")


def test_module_entry_point(repo: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["gitreg", "--version"])
    with pytest.raises(SystemExit) as caught:
        runpy.run_module("gitreg", run_name="__main__")
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("gitreg ")
