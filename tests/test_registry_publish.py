"""Publishing through the CLI: what git records, and what a rejected publish leaves."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from gitreg import registry
from gitreg.errors import GitError
from gitreg.registry import PublishRequest, publish
from tests.conftest import Cli, git, snapshot
from tests.helpers import DATASETS, MODELS, commit, manifest_json, publish_model, write


def _index_entry(repo: Path, relative: str) -> str:
    return git(repo, "ls-files", "--stage", "--", relative)


def test_publish_keeps_user_work(cli: Cli, repo: Path) -> None:
    commit(repo, {"train.py": "print('v1')\n", "README": "readme\n"})
    write(repo, "staged.txt", "staged content\n")
    git(repo, "add", "staged.txt")
    write(repo, "train.py", "print('v2, not staged')\n")
    staged_entry = _index_entry(repo, "staged.txt")
    train_entry = _index_entry(repo, "train.py")
    write(repo, "model.bin", b"weights")

    publish_model(cli, repo)

    assert _index_entry(repo, "staged.txt") == staged_entry
    assert _index_entry(repo, "train.py") == train_entry
    assert (repo / "staged.txt").read_bytes() == b"staged content\n"
    assert (repo / "train.py").read_bytes() == b"print('v2, not staged')\n"
    assert git(repo, "diff", "--cached", "--name-only") == "staged.txt\n"
    assert git(repo, "diff", "--name-only") == "train.py\n"
    assert git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD") == MODELS + "\n"


def test_publish_stages_manifest_clean(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo)
    status = git(repo, "status", "--porcelain", "--", MODELS)
    assert status == ""


def test_first_publish_creates_root(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo)
    head = pygit2.Repository(str(repo)).head.peel(pygit2.Commit)
    assert head.parents == []
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"


def test_second_publish_has_parent(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo)
    first = git(repo, "rev-parse", "HEAD").strip()
    publish_model(cli, repo, version="1.1.0")
    assert git(repo, "rev-parse", "HEAD^").strip() == first
    assert [m["version"] for m in manifest_json(repo)["models"]] == ["1.0.0", "1.1.0"]


def test_commit_message_and_tag(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo, "--name", "forecast", "--client", "acme-corp")
    entry = manifest_json(repo)["models"][0]
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("Publish model forecast 1.0.0\n\n")
    assert f"Registry-Entry-Id: {entry['id']}\n" in message
    assert f"Registry-Artifact-Sha256: {entry['sha256']}\n" in message
    assert git(repo, "cat-file", "-t", "model/forecast@v1.0.0").strip() == "tag"
    assert git(repo, "rev-parse", "model/forecast@v1.0.0^{commit}") == git(
        repo, "rev-parse", "HEAD"
    )


def test_tag_message_carries_digest(cli: Cli, repo: Path) -> None:
    publish_model(cli, repo)
    manifest = registry.load_manifest(registry.open_registry(repo), "model")
    entry = manifest.entries[0]
    tag_text = git(repo, "tag", "-l", "--format=%(contents)", entry.tag_name)
    assert f"Registry-Entry-Digest: sha256:{entry.digest()}" in tag_text


def test_publish_json_output(cli: Cli, repo: Path) -> None:
    result = publish_model(cli, repo, "--json")
    document = json.loads(result.stdout)
    assert document["tag"] == "model/model@v1.0.0"
    assert document["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert document["signed"] is False
    assert document["entry"] == manifest_json(repo)["models"][0]


def test_publish_text_output(cli: Cli, repo: Path) -> None:
    write(repo, "m.json", '{"rmse": 0.12, "r2": 0.89}')
    result = publish_model(cli, repo, "--metrics", "m.json")
    lines = result.stdout.splitlines()
    assert lines[0] == "Publishing model: model v1.0.0"
    assert lines[1] == "Artifact: model.bin"
    assert lines[2] == "✓ Model published successfully"
    assert lines[-2:] == ["  r2: 0.89", "  rmse: 0.12"]


def test_register_text_output(cli: Cli, repo: Path) -> None:
    write(repo, "data/sales.bin", b"rows")
    result = cli(
        "dataset-register", "--path", "data/sales.bin", "--version", "1.0.0", "--rows", "7",
        cwd=repo,
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Registering dataset: sales v1.0.0"
    assert "Rows: 7" in result.stdout.splitlines()
    assert manifest_json(repo, DATASETS)["datasets"][0]["row_count"] == 7


def test_absolute_path_becomes_relative(cli: Cli, repo: Path) -> None:
    artifact = write(repo, "models/forecast.pkl", b"pickle")
    publish_model(cli, repo, path=str(artifact))
    assert manifest_json(repo)["models"][0]["artifacts"] == ["models/forecast.pkl"]


def test_path_relative_to_subfolder(cli: Cli, repo: Path) -> None:
    write(repo, "models/forecast.pkl", b"pickle")
    result = cli("model-publish", "--path", "forecast.pkl", "--version", "1.0.0",
                 cwd=repo / "models")
    assert result.exit_code == 0, result.stderr
    assert manifest_json(repo)["models"][0]["artifacts"] == ["models/forecast.pkl"]


def test_repo_option_changes_directory(cli: Cli, repo: Path, tmp_path: Path) -> None:
    write(repo, "model.bin", b"weights")
    result = cli("-C", str(repo), "model-publish", "--path", "model.bin", "--version", "1.0.0",
                 cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert manifest_json(repo)["models"][0]["name"] == "model"


def test_uncommitted_artifact_warns(cli: Cli, repo: Path) -> None:
    result = publish_model(cli, repo)
    assert "model.bin is not committed" in result.stderr


def test_committed_artifact_no_warning(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"weights"})
    result = publish_model(cli, repo)
    assert "is not committed" not in result.stderr


# Rejected publishes ------------------------------------------------------------


def _rejected(cli: Cli, repo: Path, *args: str, code: int) -> str:
    """Run a command that must fail with ``code`` and leave the repository unchanged."""
    before = snapshot(repo)
    result = cli(*args, cwd=repo)
    assert result.exit_code == code, result.stderr
    assert snapshot(repo) == before
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def published(cli: Cli, repo: Path) -> Path:
    """A repository with model 'model' 1.0.0 published and its artifact committed."""
    commit(repo, {"model.bin": b"weights", "metrics.json": '{"rmse": 1}'})
    publish_model(cli, repo, "--metrics", "metrics.json")
    return repo


@pytest.mark.parametrize("version", ["1.0.0", "1.0.0+build.7"])
def test_duplicate_version_rejected(cli: Cli, published: Path, version: str) -> None:
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", version, code=1
    )
    assert "model 'model' version 1.0.0 already exists" in message
    assert "1.0.1" in message


def test_build_metadata_collides(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"weights"})
    publish_model(cli, repo, version="1.0.0+a")
    message = _rejected(
        cli, repo, "model-publish", "--path", "model.bin", "--version", "1.0.0+b", code=1
    )
    assert "version 1.0.0+a already exists, and 1.0.0+b has the same precedence (" in message


@pytest.mark.parametrize(
    ("version", "hint"),
    [
        ("v1.0.0", "drop the leading 'v': pass 1.0.0"),
        ("01.2.3", "leading zero"),
        ("1.2.03", "leading zero"),
        ("1.0.0-01", "leading zero"),
        ("1.2", "MAJOR.MINOR.PATCH"),
        ("1", "MAJOR.MINOR.PATCH"),
        ("", "empty"),
        ("1.0.0-", "expected MAJOR.MINOR.PATCH"),
        ("\uff11.0.0", "expected MAJOR.MINOR.PATCH"),
    ],
)
def test_invalid_version_rejected(cli: Cli, published: Path, version: str, hint: str) -> None:
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", version, code=2
    )
    assert f"version '{version}' is not valid SemVer 2.0.0" in message
    assert hint in message


def test_default_name_invalid(cli: Cli, published: Path) -> None:
    commit(published, {"-bad-name.bin": b"x"})
    message = _rejected(
        cli, published, "model-publish", "--path", "-bad-name.bin", "--version", "1.0.0", code=2
    )
    assert "name '-bad-name' taken from the file name" in message
    assert "--name" in message


@pytest.mark.parametrize("name", ["a..b", "x.lock", "bad name", "a@b", "name.", "n\n", "é"])
def test_invalid_name_rejected(cli: Cli, published: Path, name: str) -> None:
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", "2.0.0",
        "--name", name, code=2,
    )
    assert "is not valid" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"rmse": NaN}', ":1:10: NaN is not a valid JSON number"),
        ('{"rmse": Infinity}', ":1:10: Infinity is not a valid JSON number"),
        ('{"rmse": -Infinity}', ":1:10: -Infinity is not a valid JSON number"),
        ('{"rmse": 1,\n "rmse": 2}', ":2:2: duplicate key 'rmse'"),
        ("[1, 2]", ":1:1: metrics must be a JSON object, not list"),
        ('{"nested": {"a": 1}}', ":1:12: metric 'nested' must be a finite number, not a nested"),
        ('{"flag": true}', ":1:10: metric 'flag' must be a finite number, not a boolean"),
        ('{"s": "1.0"}', "metric 's' must be a finite number, not a string"),
        ('{"n": null}', "metric 'n' must be a finite number, not null"),
        ('{"l": [1]}', "metric 'l' must be a finite number, not an array"),
        ('{"big": 1e999}', "metric 'big' must be a finite number"),
        ('{"big": 100000000000000000000000000000}', "metric 'big' is an integer beyond"),
        ('{"huge": 1' + "0" * 400 + "}", "metric 'huge' is an integer beyond"),
        ('{"rmse": 0.1', ":1:13: invalid JSON"),
        (b'{"r\xff": 1}', ":1:4: invalid UTF-8 byte 0xff"),
    ],
)
def test_invalid_metrics_rejected(
    cli: Cli, published: Path, content: str | bytes, expected: str
) -> None:
    commit(published, {"bad.json": content})
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", "2.0.0",
        "--metrics", "bad.json", code=2,
    )
    assert "bad.json" in message
    assert expected in message


def test_missing_metrics_rejected(cli: Cli, published: Path) -> None:
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", "2.0.0",
        "--metrics", "gone.json", code=2,
    )
    assert "metrics file" in message
    assert "gone.json' not found" in message


def test_metrics_directory_rejected(cli: Cli, published: Path) -> None:
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", "2.0.0",
        "--metrics", "models", code=2,
    )
    assert "is a directory" in message


def test_metrics_bom_accepted(cli: Cli, repo: Path) -> None:
    write(repo, "m.json", b'\xef\xbb\xbf{"rmse": 0.5,\r\n "count": 3}\r\n')
    publish_model(cli, repo, "--metrics", "m.json")
    assert manifest_json(repo)["models"][0]["metrics"] == {"count": 3, "rmse": 0.5}


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--cleanliness", "101", "--cleanliness 101 is out of range"),
        ("--cleanliness", "-1", "--cleanliness -1 is out of range"),
        ("--client", "Acme Corp", "client 'Acme Corp' is not a valid slug"),
        ("--release", "", "--release '' must be 1 to 255 characters"),
        ("--notes", "n" * 10_001, "--notes is 10001 characters long"),
    ],
)
def test_out_of_range_rejected(
    cli: Cli, published: Path, option: str, value: str, expected: str
) -> None:
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", "2.0.0",
        option, value, code=2,
    )
    assert expected in message


def test_negative_rows_rejected(cli: Cli, published: Path) -> None:
    commit(published, {"data.bin": b"rows"})
    message = _rejected(
        cli, published, "dataset-register", "--path", "data.bin", "--version", "1.0.0",
        "--rows", "-5", code=2,
    )
    assert "--rows -5 is negative" in message


def test_unknown_option_is_usage(cli: Cli, published: Path) -> None:
    before = snapshot(published)
    result = cli("model-publish", "--path", "model.bin", "--bogus", cwd=published)
    assert result.exit_code == 2
    assert "No such option" in result.stderr
    assert snapshot(published) == before


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("missing.bin", "artifact not found: 'missing.bin'"),
        ("../outside.bin", "is outside the repository"),
        (".git/config", "points into the .git folder"),
        ("models", "is not a regular file"),
        (".", "is outside the repository"),
    ],
)
def test_bad_artifact_rejected(cli: Cli, published: Path, path: str, expected: str) -> None:
    (published / "models").mkdir(exist_ok=True)
    (published.parent / "outside.bin").write_bytes(b"x")
    message = _rejected(
        cli, published, "model-publish", "--path", path, "--version", "2.0.0",
        "--name", "other", code=1,
    )
    assert expected in message


def test_escaping_symlink_rejected(cli: Cli, published: Path) -> None:
    (published.parent / "secret.bin").write_bytes(b"secret")
    (published / "link.bin").symlink_to(published.parent / "secret.bin")
    message = _rejected(
        cli, published, "model-publish", "--path", "link.bin", "--version", "2.0.0", code=1
    )
    assert "symlink that leads outside the repository" in message


def test_inner_symlink_accepted(cli: Cli, repo: Path) -> None:
    write(repo, "real/model.bin", b"weights")
    (repo / "link.bin").symlink_to(repo / "real" / "model.bin")
    publish_model(cli, repo, path="link.bin")
    assert manifest_json(repo)["models"][0]["artifacts"] == ["link.bin"]


def test_stray_tag_rejected(cli: Cli, published: Path) -> None:
    git(published, "tag", "model/model@v2.0.0")
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", "2.0.0", code=1
    )
    assert "tag 'model/model@v2.0.0' already exists" in message


def test_detached_head_rejected(cli: Cli, published: Path) -> None:
    git(published, "checkout", "-q", "--detach")
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", "2.0.0", code=1
    )
    assert "HEAD is detached" in message
    assert "git switch" in message


@pytest.mark.parametrize("key", ["user.name", "user.email"])
def test_missing_identity_rejected(cli: Cli, published: Path, key: str) -> None:
    git(published, "config", "--unset", key)
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", "2.0.0", code=1
    )
    assert f"{key} is not set" in message


@pytest.mark.parametrize("staged", [False, True])
def test_dirty_manifest_rejected(cli: Cli, published: Path, staged: bool) -> None:
    manifest = published / MODELS
    manifest.write_bytes(manifest.read_bytes() + b"\n")
    if staged:
        git(published, "add", MODELS)
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", "2.0.0", code=1
    )
    assert f"{MODELS} has uncommitted changes" in message


def test_untracked_manifest_rejected(cli: Cli, repo: Path) -> None:
    write(repo, MODELS, '{"$schema": "x", "version": "1.0.0", '
          '"updated_at": "2025-01-01T00:00:00Z", "models": []}')
    write(repo, "model.bin", b"weights")
    message = _rejected(
        cli, repo, "model-publish", "--path", "model.bin", "--version", "1.0.0", code=1
    )
    assert "has uncommitted changes" in message


def test_not_a_repository(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"weights")
    result = cli("model-publish", "--path", "model.bin", "--version", "1.0.0", cwd=folder)
    assert result.exit_code == 1
    assert "is not inside a git repository" in result.stderr


def test_bare_repository_rejected(cli: Cli, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    pygit2.init_repository(str(bare), bare=True)
    result = cli("model-publish", "--path", "model.bin", "--version", "1.0.0", cwd=bare)
    assert result.exit_code == 1
    assert "is a bare repository" in result.stderr
    assert list((bare / "refs" / "tags").iterdir()) == []


def test_broken_committed_manifest_rejected(cli: Cli, repo: Path) -> None:
    commit(repo, {MODELS: '{"models": ', "model.bin": b"w"})
    message = _rejected(
        cli, repo, "model-publish", "--path", "model.bin", "--version", "1.0.0", code=1
    )
    assert f"{MODELS} at " in message
    assert "invalid JSON" in message


def test_manifest_size_limit(
    cli: Cli, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "MAX_MANIFEST_BYTES", len((published / MODELS).read_bytes()))
    message = _rejected(
        cli, published, "model-publish", "--path", "model.bin", "--version", "2.0.0", code=1
    )
    assert f"publishing would push {MODELS} over 10 MB" in message


def test_branch_moved_rejected(published: Path) -> None:
    repository = registry.open_registry(published)
    head = repository.head_state()
    with pytest.raises(GitError, match="moved during the publish"):
        repository.advance_branch_and_tag(
            branch=head.branch,
            expected="0" * 40,
            commit=str(head.commit),
            tag_name="model/x@v9.0.0",
            tag_object=str(head.commit),
            reflog_message="test",
        )
    assert git(published, "tag", "-l", "model/x*") == ""


def test_publish_api_pins_time(repo: Path) -> None:
    write(repo, "model.bin", b"weights")
    request = PublishRequest(kind="model", path="model.bin", version="1.0.0")
    result = publish(request, cwd=repo, epoch=1_700_000_000)
    assert result.entry.created_at == "2023-11-14T22:13:20Z"
    assert git(repo, "log", "-1", "--format=%ct").strip() == "1700000000"


@pytest.mark.parametrize("committed", [True, False])
def test_file_where_folder_needed(cli: Cli, repo: Path, committed: bool) -> None:
    commit(repo, {"model.bin": b"weights", "datasets": "a file"})
    if committed:
        commit(repo, {"models": "a file named models"})
    else:
        write(repo, "models", "untracked file named models")
    message = _rejected(
        cli, repo, "model-publish", "--path", "model.bin", "--version", "1.0.0", code=1
    )
    assert f"'models' is a file or symlink, but {MODELS} needs it to be a folder" in message


def test_symlinked_folder_rejected(cli: Cli, repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "registry").mkdir(parents=True)
    commit(repo, {"model.bin": b"weights"})
    (repo / "models").symlink_to(outside)
    message = _rejected(
        cli, repo, "model-publish", "--path", "model.bin", "--version", "1.0.0", code=1
    )
    assert "'models' is a file or symlink" in message
    assert list((outside / "registry").iterdir()) == []


def test_untracked_broken_manifest_located(cli: Cli, repo: Path) -> None:
    write(repo, MODELS, '{"models": [}')
    write(repo, "model.bin", b"weights")
    message = _rejected(
        cli, repo, "model-publish", "--path", "model.bin", "--version", "1.0.0", code=1
    )
    assert f"{MODELS}:1:13: invalid JSON" in message


@pytest.mark.parametrize("manifest", [MODELS, DATASETS])
def test_manifest_as_artifact_rejected(cli: Cli, published: Path, manifest: str) -> None:
    write(published, DATASETS, "{}")
    git(published, "add", DATASETS)
    git(published, "commit", "-qm", "placeholder")
    message = _rejected(
        cli, published, "model-publish", "--path", manifest, "--version", "2.0.0",
        "--name", "other", code=1,
    )
    assert f"artifact '{manifest}' is a registry manifest" in message


def test_identity_from_environment(
    cli: Cli, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(published, "config", "--unset", "user.name")
    git(published, "config", "--unset", "user.email")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "CI Robot")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "ci@example.com")
    publish_model(cli, published, version="2.0.0")
    assert git(published, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == (
        "CI Robot <ci@example.com>|CI Robot <ci@example.com>"
    )


def test_email_variable_last_resort(
    cli: Cli, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(published, "config", "--unset", "user.email")
    monkeypatch.setenv("EMAIL", "fallback@example.com")
    publish_model(cli, published, version="2.0.0")
    assert git(published, "log", "-1", "--format=%ce").strip() == "fallback@example.com"
