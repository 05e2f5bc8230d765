"""No traceback for a user error; an unexpected error prints one line and a crash report."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from gitreg.gitrepo import Repository
from tests.conftest import git, snapshot


@pytest.fixture
def registry(repo: Path, cli: Any) -> Path:
    (repo / "model.bin").write_bytes(b"weights")
    (repo / "data.csv").write_bytes(b"a\n1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "Add artifacts")
    assert (
        cli("model-publish", "--path", "model.bin", "--version", "1.0.0", cwd=repo).exit_code == 0
    )
    return repo


USER_ERRORS = [
    (("list", "--type", "widget"), 2),
    (("fetch", "--type", "model"), 2),
    (("fetch", "--type", "model", "--name", "nope"), 1),
    (("fetch", "--type", "model", "--name", "model", "--version", "1.0"), 2),
    (("model-publish", "--path", "model.bin", "--version", "01.0.0"), 2),
    (("model-publish", "--path", "model.bin", "--version", "1.0.0"), 1),
    (("model-publish", "--path", "gone.bin", "--version", "2.0.0"), 1),
    (("model-publish", "--path", "model.bin", "--version", "2.0.0", "--cleanliness", "101"), 2),
    (("model-publish", "--path", "model.bin", "--version", "2.0.0", "--metrics", "gone.json"), 2),
    (("model-publish", "--path", "model.bin", "--version", "2.0.0", "--metrics", "."), 2),
    (("model-publish", "--path", "model.bin", "--version", "2.0.0", "--name", "a b"), 2),
    (("model-publish", "--path", "model.bin", "--version", "2.0.0", "--client", "ACME"), 2),
    (("model-publish", "--path", "model.bin", "--version", "2.0.0", "--lock-timeout", "-1"), 2),
    (("dataset-register", "--path", "data.csv", "--version", "1.0.0", "--rows", "-1"), 2),
    (("dataset-register", "--path", "data.csv", "--version", "1.0.0", "--rows", str(2**60)), 2),
    (("verify", "--since", "no-such-revision"), 1),
    (("--repo", "/no/such/folder", "list", "--type", "model"), 2),
    (("no-such-command",), 2),
]


@pytest.mark.parametrize(("args", "code"), USER_ERRORS, ids=lambda value: str(value))
def test_user_error_one_line(registry: Path, cli: Any, args: tuple[str, ...], code: int) -> None:
    before = snapshot(registry)
    result = cli(*args, cwd=registry)
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()
    assert snapshot(registry) == before


@pytest.fixture
def crash_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "crashes"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError("disk gremlins")


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--type", "model"),
        ("model-publish", "--path", "model.bin", "--version", "2.0.0"),
        ("verify",),
    ],
)
def test_unexpected_error_exits_3(
    registry: Path,
    cli: Any,
    crash_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
) -> None:
    monkeypatch.setattr(Repository, "discover", classmethod(_explode))
    result = cli(*args, cwd=registry)
    reports = list(crash_folder.iterdir())
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert "RuntimeError: disk gremlins" in result.stderr
    assert len(reports) == 1
    assert str(reports[0]) in result.stderr
    assert "Traceback (most recent call last)" in reports[0].read_text()


def test_crashed_publish_changes_nothing(
    registry: Path, cli: Any, crash_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Repository, "advance_branch_and_tag", _explode)
    before = snapshot(registry)
    staged = git(registry, "ls-files", "--stage")
    result = cli("model-publish", "--path", "model.bin", "--version", "2.0.0", cwd=registry)
    after = snapshot(registry)
    assert result.exit_code == 3
    # The rollback rewrites the manifest, so only the index's cached file times change.
    assert git(registry, "ls-files", "--stage") == staged
    assert (after.head, after.refs, after.files) == (before.head, before.refs, before.files)
    assert git(registry, "status", "--porcelain") == ""
    assert not (registry / ".git" / "gitreg-journal.json").exists()


def test_unwritable_lock_is_user_error(
    registry: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def denied(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("gitreg.lock"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    result = cli("model-publish", "--path", "model.bin", "--version", "2.0.0", cwd=registry)
    assert result.exit_code == 1
    assert re.search(
        r"cannot create the writer lock .*gitreg\.lock: Permission denied", result.stderr
    )


def test_crash_report_unwritable(
    registry: Path, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    monkeypatch.setattr(Repository, "discover", classmethod(_explode))
    result = cli("list", "--type", "model", cwd=registry)
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no crash report, because writing it failed" in result.stderr


def test_crash_message_one_line(
    registry: Path, cli: Any, crash_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def multiline(*args: object, **kwargs: object) -> None:
        raise RuntimeError("first line\nsecond line")

    monkeypatch.setattr(Repository, "discover", classmethod(multiline))
    result = cli("list", "--type", "model", cwd=registry)
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1
    assert "first line second line" in result.stderr


def test_closed_stdout_quiet(registry: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "gitreg", "list", "--type", "model", "--json"],
        cwd=registry,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None
    child.stdout.close()
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 1
    assert b"Traceback" not in stderr
    assert b"BrokenPipeError" not in stderr
