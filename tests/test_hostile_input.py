"""Unusual repositories and hostile input: each gets an exact outcome and changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gitreg.errors import UsageError
from gitreg.registry import PublishRequest, publish
from tests.conftest import (
    IDENTITY_EMAIL,
    IDENTITY_NAME,
    configure_ssh_signing,
    git,
    snapshot,
)

MANIFEST = "models/registry/releases.json"
PUBLISH = ("model-publish", "--path", "model.bin", "--version")


@pytest.fixture
def committed(repo: Path) -> Path:
    """A repository with one commit that contains the artifact ``model.bin``."""
    (repo / "model.bin").write_bytes(b"weights")
    (repo / ".gitattributes").write_text("*.bin -text\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "Add the model")
    return repo


@pytest.fixture
def published(committed: Path, cli: Any) -> Path:
    """A registry with model 'model' 1.0.0 published."""
    result = cli(*PUBLISH, "1.0.0", cwd=committed)
    assert result.exit_code == 0, result.stderr
    return committed


# Repositories ---------------------------------------------------------------------


def test_not_a_repository(tmp_path: Path, cli: Any) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"weights")
    for args in [("list", "--type", "model"), (*PUBLISH, "1.0.0"), ("verify",), ("repair",)]:
        result = cli(*args, cwd=folder)
        assert result.exit_code == 1, args
        assert "is not inside a git repository" in result.stderr, args
        assert "Traceback" not in result.stderr, args
    assert sorted(path.name for path in folder.iterdir()) == ["model.bin"]


def test_first_publish_creates_root(repo: Path, cli: Any) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    result = cli(*PUBLISH, "1.0.0", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"
    assert (
        git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
        == git(repo, "rev-parse", "HEAD").strip()
    )
    assert git(repo, "status", "--porcelain", MANIFEST) == ""


def test_bare_repository(tmp_path: Path, published: Path, cli: Any) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(published), str(bare))
    refs = git(bare, "for-each-ref")
    result = cli(*PUBLISH, "2.0.0", cwd=bare)
    assert result.exit_code == 1
    assert "is a bare repository" in result.stderr
    assert git(bare, "for-each-ref") == refs
    listing = cli("list", "--type", "model", "--json", cwd=bare)
    assert listing.exit_code == 0
    assert json.loads(listing.stdout)["count"] == 1


def test_detached_head_rejected(published: Path, cli: Any) -> None:
    git(published, "checkout", "-q", "--detach")
    before = snapshot(published)
    result = cli(*PUBLISH, "2.0.0", cwd=published)
    assert result.exit_code == 1
    assert "HEAD is detached" in result.stderr
    assert "git switch" in result.stderr
    assert snapshot(published) == before


def test_shallow_clone(tmp_path: Path, published: Path, cli: Any) -> None:
    git(published, "commit", "-q", "--allow-empty", "-m", "Later work")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{published}", str(clone))
    assert pygit2.Repository(str(clone)).is_shallow
    git(clone, "config", "user.name", IDENTITY_NAME)
    git(clone, "config", "user.email", IDENTITY_EMAIL)
    result = cli(*PUBLISH, "2.0.0", cwd=clone)
    assert result.exit_code == 0, result.stderr
    check = cli("verify", "--no-hash", cwd=clone)
    assert check.exit_code == 1
    assert "shallow" in check.stdout


@pytest.mark.parametrize("missing", ["user.name", "user.email"])
def test_missing_identity(committed: Path, cli: Any, missing: str) -> None:
    git(committed, "config", "--unset", missing)
    before = snapshot(committed)
    result = cli(*PUBLISH, "1.0.0", cwd=committed)
    assert result.exit_code == 1
    assert f"{missing} is not set" in result.stderr
    assert snapshot(committed) == before


def test_missing_gpg_key_rejected(committed: Path, cli: Any) -> None:
    git(committed, "config", "user.signingkey", "0123456789ABCDEF0123456789ABCDEF01234567")
    git(committed, "config", "commit.gpgsign", "true")
    before = snapshot(committed)
    result = cli(*PUBLISH, "1.0.0", cwd=committed)
    assert result.exit_code == 1
    assert "0123456789ABCDEF" in result.stderr
    assert snapshot(committed) == before
    assert git(committed, "tag") == ""


def test_missing_ssh_key_rejected(committed: Path, cli: Any, ssh_key: Path) -> None:
    configure_ssh_signing(committed, ssh_key)
    git(committed, "config", "user.signingkey", str(ssh_key) + ".gone")
    before = snapshot(committed)
    result = cli(*PUBLISH, "1.0.0", cwd=committed)
    assert result.exit_code == 1
    assert "not found" in result.stderr
    assert snapshot(committed) == before


def test_handmade_tag_rejected(committed: Path, cli: Any) -> None:
    git(committed, "tag", "model/model@v1.0.0")
    before = snapshot(committed)
    result = cli(*PUBLISH, "1.0.0", cwd=committed)
    assert result.exit_code == 1
    assert "tag 'model/model@v1.0.0' already exists" in result.stderr
    assert snapshot(committed) == before


def test_conflicted_merge_rejected(published: Path, cli: Any) -> None:
    git(published, "checkout", "-q", "-b", "side")
    assert cli(*PUBLISH, "2.0.0", cwd=published).exit_code == 0
    git(published, "checkout", "-q", "main")
    assert cli(*PUBLISH, "3.0.0", cwd=published).exit_code == 0
    merge = subprocess.run(["git", "merge", "-q", "side"], cwd=published, capture_output=True)
    assert merge.returncode != 0
    before = snapshot(published)
    result = cli(*PUBLISH, "4.0.0", cwd=published)
    assert result.exit_code == 1
    assert "unresolved merge conflict marker" in result.stderr
    assert f"{MANIFEST}:" in result.stderr
    assert snapshot(published) == before


# Artifact paths -------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the repository, with the same bytes as ``model.bin``."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    path = folder / "model.bin"
    path.write_bytes(b"weights")
    return path


def _make_escapes(repo: Path, outside: Path) -> None:
    (repo / "link.bin").symlink_to(outside)
    (repo / "folder.bin").mkdir()
    os.mkfifo(repo / "fifo.bin")
    (repo / "linked").symlink_to(outside.parent, target_is_directory=True)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../x", "is outside the repository"),
        ("/etc/hosts", "is outside the repository"),
        ("a/../../x", "is outside the repository"),
        ("link.bin", "symlink that leads outside the repository"),
        ("folder.bin", "is not a regular file"),
        ("fifo.bin", "is not a regular file"),
        ("linked/model.bin", "symlink that leads outside the repository"),
        (".git/config", "points into the .git folder"),
    ],
)
def test_publish_rejects_path(
    committed: Path, outside: Path, cli: Any, path: str, message: str
) -> None:
    _make_escapes(committed, outside)
    before = snapshot_without_fifo(committed)
    result = cli(
        "model-publish", "--path", path, "--version", "1.0.0", "--name", "m", cwd=committed
    )
    assert result.exit_code == 1
    assert message in result.stderr
    assert snapshot_without_fifo(committed) == before


def snapshot_without_fifo(repo: Path) -> Any:
    """Take a snapshot while the FIFO is moved aside, since reading it would block."""
    fifo = repo / "fifo.bin"
    aside = repo.parent / "fifo.aside"
    fifo.rename(aside)
    try:
        return snapshot(repo)
    finally:
        aside.rename(fifo)


def _rewrite_artifact(repo: Path, artifact: str) -> None:
    document = json.loads((repo / MANIFEST).read_text(encoding="utf-8"))
    document["models"][0]["artifacts"] = [artifact]
    (repo / MANIFEST).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


@pytest.fixture
def opened() -> Iterator[list[str]]:
    """Record every path this process opens while the test runs."""
    paths: list[str] = []
    _OPEN_LOGS.append(paths)
    yield paths
    _OPEN_LOGS.remove(paths)


_OPEN_LOGS: list[list[str]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _OPEN_LOGS and isinstance(args[0], str | bytes | os.PathLike):
        for log in _OPEN_LOGS:
            log.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.mark.parametrize(
    ("artifact", "message"),
    [
        ("../elsewhere/model.bin", "is not a repository-relative POSIX path"),
        ("/etc/hosts", "is not a repository-relative POSIX path"),
        ("a/../../elsewhere/model.bin", "is not a repository-relative POSIX path"),
        ("linked/model.bin", "symlink that leads outside the repository"),
        ("link.bin", "symlink that leads outside the repository"),
        ("folder.bin", "is not a regular file"),
        ("fifo.bin", "is not a regular file"),
    ],
)
def test_manifest_escape_refused(
    published: Path, outside: Path, cli: Any, opened: list[str], artifact: str, message: str
) -> None:
    _make_escapes(published, outside)
    _rewrite_artifact(published, artifact)
    check = cli("verify", cwd=published)
    shown = cli("fetch", "--type", "model", "--name", "model", cwd=published)
    assert check.exit_code == 1
    assert message in check.stdout
    assert shown.exit_code == 1
    assert message in shown.stderr
    assert str(outside) not in opened
    assert "/etc/hosts" not in opened


def test_fetch_marks_missing_artifact(published: Path, cli: Any) -> None:
    (published / "model.bin").unlink()
    result = cli("fetch", "--type", "model", "--name", "model", cwd=published)
    assert result.exit_code == 0
    assert "model.bin (missing)" in result.stdout


def test_hash_rejects_swapped_fifo(tmp_path: Path) -> None:
    # A FIFO that replaced a checked file must not block the hash; a child process
    # with a timeout keeps a regression from hanging the test run.
    os.mkfifo(tmp_path / "swapped.bin")
    code = (
        "import sys; from pathlib import Path; from gitreg.hashing import sha256_file\n"
        "from gitreg.errors import RejectedError\n"
        "try:\n    sha256_file(Path(sys.argv[1]))\n"
        "except RejectedError as exc:\n    print(exc.message)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "swapped.bin")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "is not a regular file" in result.stdout


def test_verify_fifo_does_not_block(published: Path) -> None:
    os.mkfifo(published / "fifo.bin")
    _rewrite_artifact(published, "fifo.bin")
    result = subprocess.run(
        [sys.executable, "-m", "gitreg", "verify"],
        cwd=published,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "is not a regular file" in result.stdout


# Line endings ---------------------------------------------------------------------


def _registry_with_text_artifact(repo: Path, cli: Any, *, attributes: bool) -> Path:
    """Publish a CSV artifact; with ``attributes``, as ``gitreg init`` sets them up."""
    if attributes:
        assert cli("init", "--no-sign", cwd=repo).exit_code == 0
    artifact = repo / "models" / "table.csv"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_bytes(b"a,b\n1,2\n")
    git(repo, "add", "models/table.csv")
    git(repo, "commit", "-qm", "Add the table")
    result = cli("model-publish", "--path", "models/table.csv", "--version", "1.0.0", cwd=repo)
    assert result.exit_code == 0, result.stderr
    return artifact


def _autocrlf_clone(source: Path, target: Path) -> Path:
    git(source.parent, "clone", "-q", "-c", "core.autocrlf=true", str(source), str(target))
    return target


def test_autocrlf_keeps_artifact_hash(repo: Path, tmp_path: Path, cli: Any) -> None:
    _registry_with_text_artifact(repo, cli, attributes=True)
    clone = _autocrlf_clone(repo, tmp_path / "crlf")
    assert (clone / "models" / "table.csv").read_bytes() == b"a,b\n1,2\n"
    result = cli("verify", cwd=clone)
    assert result.exit_code == 0, result.stdout


def test_autocrlf_without_attributes_fails(repo: Path, tmp_path: Path, cli: Any) -> None:
    # The control case: without '-text', git rewrites the line ends and the hash breaks.
    _registry_with_text_artifact(repo, cli, attributes=False)
    clone = _autocrlf_clone(repo, tmp_path / "crlf")
    assert (clone / "models" / "table.csv").read_bytes() == b"a,b\r\n1,2\r\n"
    result = cli("verify", cwd=clone)
    assert result.exit_code == 1
    assert "hash mismatch" in result.stdout


def test_publish_warns_unmarked_artifact(repo: Path, cli: Any) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    result = cli(*PUBLISH, "1.0.0", cwd=repo)
    assert result.exit_code == 0
    assert "not marked -text in .gitattributes" in result.stderr


def test_publish_quiet_for_marked_artifact(committed: Path, cli: Any) -> None:
    result = cli(*PUBLISH, "1.0.0", cwd=committed)
    assert result.exit_code == 0
    assert "-text" not in result.stderr


# Metrics files --------------------------------------------------------------------


def test_metrics_bom_crlf_accepted(committed: Path, tmp_path: Path, cli: Any) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_bytes(b'\xef\xbb\xbf{\r\n  "rmse": 0.5,\r\n  "r2": 1\r\n}\r\n')
    result = cli(*PUBLISH, "1.0.0", "--metrics", str(metrics), "--json", cwd=committed)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["entry"]["metrics"] == {"rmse": 0.5, "r2": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{\n  "a": NaN\n}', ":2:8: NaN is not a valid JSON number"),
        ('{\n  "a": 1,\n  "b": Infinity\n}', ":3:8: Infinity is not a valid JSON number"),
        ('{\n  "a": -Infinity\n}', ":2:8: -Infinity is not a valid JSON number"),
        ('{"a": 1,\n "a": 2}', ":2:2: duplicate key 'a'"),
        ("[1, 2]", ":1:1: metrics must be a JSON object"),
        ('{\n "a": {"b": 1}\n}', ":2:7: metric 'a' must be a finite number, not a nested object"),
        ('{\n "ok": 1,\n "a": true\n}', ":3:7: metric 'a' must be a finite number, not a boolean"),
        ('{\r\n "a": "x"\r\n}', ":2:7: metric 'a' must be a finite number, not a string"),
        ('{"a": 1', ":1:8: invalid JSON"),
    ],
)
def test_metrics_rejected(
    committed: Path, tmp_path: Path, cli: Any, text: str, message: str
) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(text, encoding="utf-8", newline="")
    before = snapshot(committed)
    result = cli(*PUBLISH, "1.0.0", "--metrics", str(metrics), cwd=committed)
    assert result.exit_code == 2
    assert f"{metrics}{message}" in result.stderr
    assert snapshot(committed) == before


# Broken manifests -----------------------------------------------------------------


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _conflict(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join(
        [*lines[:3], b"<<<<<<< HEAD\n", *lines[3:6], b"=======\n", b">>>>>>> side\n", *lines[6:]]
    )


def _wrong_type(data: bytes) -> bytes:
    return data.replace(b'"type": "model"', b'"type": "dataset"')


def _not_object(data: bytes) -> bytes:
    document = json.loads(data)
    document["models"].append("model 2.0.0")
    return json.dumps(document, indent=2).encode()


def _latin1(data: bytes) -> bytes:
    return data.replace(b'"notes": null', b'"notes": "caf\xe9"')


BREAKERS = {
    "truncated": (_truncate, "invalid JSON"),
    "conflict": (_conflict, ":4:1: unresolved merge conflict marker '<<<<<<<'"),
    "wrong type": (_wrong_type, "$.models[0].type: Input should be 'model'"),
    "not an object": (_not_object, "$.models[1]: Input should be a valid dictionary"),
    "not UTF-8": (_latin1, "invalid UTF-8 byte 0xe9"),
}
COMMANDS = {
    "list": ("list", "--type", "model"),
    "fetch": ("fetch", "--type", "model", "--name", "model"),
    "stats": ("stats",),
    "verify": ("verify", "--no-hash"),
    "publish": (*PUBLISH, "2.0.0"),
}


@pytest.mark.parametrize("breaker", BREAKERS)
@pytest.mark.parametrize("committed_too", [False, True], ids=["worktree", "committed"])
def test_broken_manifest_every_command(
    published: Path, cli: Any, breaker: str, committed_too: bool
) -> None:
    damage, message = BREAKERS[breaker]
    manifest = published / MANIFEST
    manifest.write_bytes(damage(manifest.read_bytes()))
    if committed_too:
        git(published, "commit", "-qam", "Break the manifest")
    before = snapshot(published)
    for name, args in COMMANDS.items():
        result = cli(*args, cwd=published)
        output = result.stdout + result.stderr
        assert result.exit_code == 1, name
        assert MANIFEST in output, name
        assert message in output, name
        assert "Traceback" not in output, name
    assert snapshot(published) == before


def test_huge_metric_in_memory_rejected(committed: Path) -> None:
    # The HTTP API passes metrics as values, not as a file.
    request = PublishRequest(
        kind="model", path="model.bin", version="1.0.0", metrics={"loss": 2**64}
    )
    before = snapshot(committed)
    with pytest.raises(UsageError, match=r"metric 'loss' is an integer beyond 2\*\*53 - 1"):
        publish(request, cwd=committed)
    assert snapshot(committed) == before
