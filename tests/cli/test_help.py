"""Every command documents itself: --help works and every option has help text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from gitreg.cli.app import app
from tests.conftest import Cli

COMMANDS = ["model-publish", "dataset-register", "list", "fetch", "verify", "stats"]


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, child in getattr(command, "commands", {}).items():
        yield from _walk(child, (*path, name))


def _tree() -> list[tuple[tuple[str, ...], Any]]:
    return list(_walk(typer.main.get_command(app)))


def test_reference_commands_exist() -> None:
    names = {path[-1] for path, _ in _tree() if path}
    assert set(COMMANDS) <= names


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_succeeds(cli: Cli, tmp_path: Path, command: str) -> None:
    args = [command, "--help"] if command else ["--help"]
    result = cli(*args, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "Usage:" in result.stdout


def test_every_command_has_help() -> None:
    missing = [" ".join(path) for path, command in _tree() if path and not command.help]
    assert missing == []


def test_every_option_has_help() -> None:
    missing = [
        f"{' '.join(path) or 'gitreg'} {param.opts[0]}"
        for path, command in _tree()
        for param in command.params
        if param.name != "help" and not getattr(param, "help", None)
    ]
    assert missing == []


def test_version_option(cli: Cli, tmp_path: Path) -> None:
    result = cli("--version", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout.startswith("gitreg ")


def test_no_arguments_shows_usage(cli: Cli, tmp_path: Path) -> None:
    result = cli(cwd=tmp_path)
    assert result.exit_code == 2
    assert "Usage:" in result.stdout + result.stderr
