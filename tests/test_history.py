"""``verify`` over the history: append-only manifests, trusted signatures, honest tags."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pygit2
import pytest

from tests.conftest import configure_gpg_signing, configure_ssh_signing, git

MANIFEST = "models/registry/releases.json"


def _publish(cli: Any, repo: Path, version: str, *extra: str, name: str = "model") -> None:
    artifact = repo / f"{name}-{version}.bin"
    artifact.write_bytes(f"weights {name} {version}".encode())
    result = cli(
        "model-publish",
        "--path",
        artifact.name,
        "--name",
        name,
        "--version",
        version,
        *extra,
        cwd=repo,
    )
    assert result.exit_code == 0, result.stderr


def _verify(cli: Any, repo: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = cli("verify", "--json", *extra, cwd=repo)
    return result.exit_code, json.loads(result.stdout)


def _failures(report: dict[str, Any], check: str) -> list[str]:
    return next(item["failures"] for item in report["checks"] if item["name"] == check)


def _new_key(home: Path, name: str) -> Path:
    key = home / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


@pytest.fixture
def registry(cli: Any, repo: Path, ssh_key: Path) -> Path:
    """A registry made by ``gitreg init`` that trusts ``ssh_key``, with two publishes."""
    configure_ssh_signing(repo, ssh_key)
    result = cli("init", cwd=repo)
    assert result.exit_code == 0, result.stderr
    _publish(cli, repo, "1.0.0")
    _publish(cli, repo, "1.1.0")
    return repo


def test_signed_history_passes(cli: Any, registry: Path) -> None:
    code, report = _verify(cli, registry)
    assert code == 0, report["errors"]
    assert report["signatures_checked"] == 5
    assert report["registry_commits"] == 3


def test_publish_takes_fast_path(cli: Any, registry: Path) -> None:
    """Only init's two new manifests and the first entry need a full comparison."""
    _, report = _verify(cli, registry)
    assert report["manifests_compared"] == 3


def test_full_history_compares_all(cli: Any, registry: Path) -> None:
    _, report = _verify(cli, registry, "--full-history")
    assert report["manifests_compared"] == 4


def test_dataset_publish_takes_fast_path(cli: Any, registry: Path) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        data = registry / f"rows-{version}.csv"
        data.write_text("a,b\n1,2\n")
        result = cli(
            "dataset-register",
            "--path",
            data.name,
            "--name",
            "rows",
            "--version",
            version,
            "--rows",
            "1",
            cwd=registry,
        )
        assert result.exit_code == 0, result.stderr
    code, report = _verify(cli, registry)
    assert code == 0, report["errors"]
    assert report["manifests_compared"] == 4


def test_first_commit_noted_as_tofu(cli: Any, registry: Path) -> None:
    _, report = _verify(cli, registry)
    assert any("trust on first use" in note for note in report["notes"])


def test_text_output_passes(cli: Any, registry: Path) -> None:
    result = cli("verify", "--no-hash", cwd=registry)
    assert result.exit_code == 0, result.stdout
    assert "trust on first use" in result.stdout
    assert "--no-hash" in result.stdout


def test_untrusted_key_fails(cli: Any, registry: Path, isolated_home: Path) -> None:
    other = _new_key(isolated_home, "intruder")
    git(registry, "config", "user.signingkey", str(other))
    _publish(cli, registry, "2.0.0")
    head = git(registry, "rev-parse", "HEAD").strip()
    code, report = _verify(cli, registry)
    assert code == 1
    assert any(
        head[:12] in failure and "does not allow" in failure
        for failure in _failures(report, "signatures")
    )


def test_unsigned_publish_fails(cli: Any, registry: Path) -> None:
    _publish(cli, registry, "2.0.0", "--no-sign")
    head = git(registry, "rev-parse", "HEAD").strip()
    code, report = _verify(cli, registry)
    assert code == 1
    assert any(
        f"commit {head[:12]}" in failure and "not signed" in failure
        for failure in _failures(report, "signatures")
    )
    assert any(
        "tag model/model@v2.0.0 is not signed" in failure
        for failure in _failures(report, "signatures")
    )


def _edit_manifest(repo: Path, edit: Any) -> str:
    document = json.loads((repo / MANIFEST).read_text())
    edit(document["models"])
    (repo / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")
    git(repo, "commit", "-qam", "Tidy the registry")
    return git(repo, "rev-parse", "HEAD").strip()


def test_changed_entry_fails(cli: Any, registry: Path) -> None:
    commit = _edit_manifest(registry, lambda models: models[0].update(notes="rewritten"))
    code, report = _verify(cli, registry, "--no-hash")
    failures = _failures(report, "history")
    assert code == 1
    assert any(
        commit[:12] in f and "changed entry model/model@v1.0.0 (notes)" in f for f in failures
    )


def test_removed_entry_fails(cli: Any, registry: Path) -> None:
    commit = _edit_manifest(registry, lambda models: models.pop(1))
    code, report = _verify(cli, registry, "--no-hash")
    failures = _failures(report, "history")
    assert code == 1
    assert any(commit[:12] in f and "removed entry model/model@v1.1.0" in f for f in failures)


def test_same_size_change_in_publish_is_located(cli: Any, registry: Path) -> None:
    """An edit hidden inside a publish commit passes the size check but not the tag digest."""
    _publish(cli, registry, "2.0.0")
    document = json.loads((registry / MANIFEST).read_text())
    original = document["models"][0]["sha256"]
    document["models"][0]["sha256"] = original[::-1]
    (registry / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")
    git(registry, "commit", "-q", "--amend", "-a", "--no-edit")
    message = _tag_body(registry, "model/model@v2.0.0")
    git(registry, "tag", "-f", "-s", "-m", message, "model/model@v2.0.0", "HEAD")
    head = git(registry, "rev-parse", "HEAD").strip()
    code, report = _verify(cli, registry, "--no-hash")
    assert code == 1
    assert any(
        "model/model@v1.0.0 at HEAD differs" in f and f"commit {head[:12]} changed it" in f
        for f in _failures(report, "history")
    )


def test_full_history_names_commit(cli: Any, registry: Path) -> None:
    _publish(cli, registry, "2.0.0")
    document = json.loads((registry / MANIFEST).read_text())
    document["models"][0]["sha256"] = document["models"][0]["sha256"][::-1]
    (registry / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")
    git(registry, "commit", "-q", "--amend", "-a", "--no-edit")
    head = git(registry, "rev-parse", "HEAD").strip()
    _, report = _verify(cli, registry, "--no-hash", "--full-history")
    assert any(
        head[:12] in f and "changed entry model/model@v1.0.0 (sha256)" in f
        for f in _failures(report, "history")
    )


def test_signer_added_by_untrusted_commit(cli: Any, registry: Path, isolated_home: Path) -> None:
    other = _new_key(isolated_home, "intruder")
    git(registry, "config", "user.signingkey", str(other))
    added = cli(
        "signers",
        "add",
        "--principal",
        "intruder@example.com",
        "--ssh-key",
        f"{other}.pub",
        cwd=registry,
    )
    assert added.exit_code == 0, added.stderr
    _publish(cli, registry, "2.0.0")
    code, report = _verify(cli, registry, "--no-hash")
    failures = _failures(report, "signatures")
    assert code == 1
    assert any("changed .gitreg without a trusted signature" in f for f in failures)
    assert any("tag model/model@v2.0.0" in f and "does not allow" in f for f in failures)


def test_signer_added_by_trusted_commit(cli: Any, registry: Path, isolated_home: Path) -> None:
    other = _new_key(isolated_home, "colleague")
    added = cli(
        "signers",
        "add",
        "--principal",
        "colleague@example.com",
        "--ssh-key",
        f"{other}.pub",
        cwd=registry,
    )
    assert added.exit_code == 0, added.stderr
    git(registry, "config", "user.signingkey", str(other))
    _publish(cli, registry, "2.0.0")
    code, report = _verify(cli, registry, "--no-hash")
    assert code == 0, report["errors"]


def test_removed_signer_loses_trust(
    cli: Any, registry: Path, ssh_key: Path, isolated_home: Path
) -> None:
    other = _new_key(isolated_home, "colleague")
    cli(
        "signers",
        "add",
        "--principal",
        "colleague@example.com",
        "--ssh-key",
        f"{other}.pub",
        cwd=registry,
    )
    git(registry, "config", "user.signingkey", str(other))
    removed = cli("signers", "remove", "tester@example.com", cwd=registry)
    assert removed.exit_code == 0, removed.stderr
    git(registry, "config", "user.signingkey", str(ssh_key))
    _publish(cli, registry, "2.0.0")
    code, _ = _verify(cli, registry, "--no-hash")
    assert code == 1


def _tag_body(repo: Path, tag: str) -> str:
    return git(repo, "tag", "-l", "--format=%(contents)", tag).split("-----BEGIN")[0]


def test_moved_tag_fails(cli: Any, registry: Path, tmp_path: Path) -> None:
    message = tmp_path / "message"
    message.write_text(_tag_body(registry, "model/model@v1.0.0"))
    git(registry, "tag", "-f", "-s", "-F", str(message), "model/model@v1.0.0", "HEAD")
    code, report = _verify(cli, registry, "--no-hash")
    assert code == 1
    assert any(
        "tag model/model@v1.0.0" in f and "the tag was moved" in f
        for f in _failures(report, "tag-history")
    )


def test_deleted_tag_fails(cli: Any, registry: Path) -> None:
    git(registry, "tag", "-d", "model/model@v1.0.0")
    code, report = _verify(cli, registry, "--no-hash")
    assert code == 1
    assert any("model/model@v1.0.0: tag is missing" in f for f in report["errors"])


def test_edited_tag_message_fails(cli: Any, registry: Path) -> None:
    git(
        registry,
        "tag",
        "-f",
        "-s",
        "-m",
        "model model 1.0.0\n\nedited",
        "model/model@v1.0.0",
        "HEAD~1",
    )
    code, report = _verify(cli, registry, "--no-hash")
    assert code == 1
    assert any("message was edited" in f for f in _failures(report, "tag-history"))


def test_lightweight_tag_fails(cli: Any, registry: Path) -> None:
    git(registry, "tag", "-f", "--no-sign", "model/model@v1.0.0", "HEAD~1")
    code, report = _verify(cli, registry, "--no-hash")
    assert code == 1
    assert any("lightweight" in f for f in _failures(report, "tag-history"))


def test_rewritten_history_fails(cli: Any, registry: Path) -> None:
    git(registry, "reset", "-q", "--hard", "HEAD~1")
    code, report = _verify(cli, registry, "--no-hash")
    assert code == 1
    assert any("not in the history of HEAD" in f for f in _failures(report, "tag-history"))


def test_shallow_clone_fails(cli: Any, registry: Path, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{registry}", str(clone)], check=True
    )
    result = cli("verify", "--no-hash", cwd=clone)
    assert result.exit_code == 1
    assert "git fetch --unshallow --tags" in result.stdout


def test_shallow_clone_says_it_once(cli: Any, registry: Path, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{registry}", str(clone)], check=True
    )
    result = cli("verify", "--no-hash", cwd=clone)
    assert result.stdout.count("is shallow") == 1


def test_shallow_clone_skips_history(cli: Any, registry: Path, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{registry}", str(clone)], check=True
    )
    _, report = _verify(cli, clone, "--no-hash")
    skipped = {check["name"] for check in report["checks"] if check["skipped"]}
    assert skipped == {"artifacts", "history", "signatures", "tag-history"}


def test_since_checks_only_new_commits(cli: Any, registry: Path) -> None:
    base = git(registry, "rev-parse", "HEAD").strip()
    _publish(cli, registry, "2.0.0")
    code, report = _verify(cli, registry, "--no-hash", "--since", base)
    assert code == 0, report["errors"]
    assert report["commits_walked"] == 1


def test_since_catches_new_unsigned_publish(cli: Any, registry: Path) -> None:
    base = git(registry, "rev-parse", "HEAD").strip()
    _publish(cli, registry, "2.0.0", "--no-sign")
    code, _ = _verify(cli, registry, "--no-hash", "--since", base)
    assert code == 1


def test_since_not_ancestor_is_usage_error(cli: Any, registry: Path) -> None:
    git(registry, "checkout", "-q", "--orphan", "other")
    git(registry, "commit", "-q", "--allow-empty", "-m", "other root")
    other = git(registry, "rev-parse", "HEAD").strip()
    git(registry, "checkout", "-q", "main")
    result = cli("verify", "--since", other, cwd=registry)
    assert result.exit_code == 2
    assert "not an ancestor of HEAD" in result.stderr


def test_no_trust_files_warns(cli: Any, repo: Path) -> None:
    _publish(cli, repo, "1.0.0")
    code, report = _verify(cli, repo, "--no-hash")
    assert code == 0, report["errors"]
    assert any("signatures were not checked" in warning for warning in report["warnings"])


def test_invalid_entry_in_hand_commit(cli: Any, registry: Path) -> None:
    def add_bad(models: list[dict[str, Any]]) -> None:
        models.append({**models[0], "id": "not-a-uuid", "version": "9.0.0"})

    commit = _edit_manifest(registry, add_bad)
    _, report = _verify(cli, registry, "--no-hash")
    assert any(
        commit[:12] in f and "added an invalid entry" in f for f in _failures(report, "history")
    )


def test_merge_keeps_both_sides(cli: Any, registry: Path) -> None:
    git(registry, "checkout", "-q", "-b", "feature")
    _publish(cli, registry, "1.0.0", name="other")
    git(registry, "checkout", "-q", "main")
    _publish(cli, registry, "2.0.0")
    document = json.loads((registry / MANIFEST).read_text())
    theirs = json.loads(git(registry, "show", f"feature:{MANIFEST}"))
    document["models"] = sorted(
        document["models"] + [m for m in theirs["models"] if m["name"] == "other"],
        key=lambda m: m["name"],
    )
    git(registry, "merge", "-q", "--no-commit", "-s", "ours", "feature")
    (registry / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")
    git(registry, "commit", "-qam", "Merge feature")
    code, report = _verify(cli, registry, "--no-hash")
    assert code == 0, report["errors"]


def test_merge_dropping_entry_fails(cli: Any, registry: Path) -> None:
    git(registry, "checkout", "-q", "-b", "feature")
    _publish(cli, registry, "1.0.0", name="other")
    git(registry, "checkout", "-q", "main")
    _publish(cli, registry, "2.0.0")
    git(registry, "merge", "-q", "-s", "ours", "-m", "Merge feature", "feature")
    _, report = _verify(cli, registry, "--no-hash")
    assert any("removed entry model/other@v1.0.0" in f for f in _failures(report, "history"))


def test_deleted_manifest_fails(cli: Any, registry: Path) -> None:
    git(registry, "rm", "-q", MANIFEST)
    git(registry, "commit", "-qm", "Drop models")
    _, report = _verify(cli, registry, "--no-hash")
    assert any(f"deleted {MANIFEST}" in f for f in _failures(report, "history"))


def test_openpgp_signed_registry(cli: Any, repo: Path, gpg_key: str) -> None:
    configure_gpg_signing(repo, gpg_key)
    assert cli("init", cwd=repo).exit_code == 0
    _publish(cli, repo, "1.0.0")
    assert (repo / ".gitreg" / f"{gpg_key}.asc").is_file()
    code, report = _verify(cli, repo, "--no-hash")
    assert code == 0, report["errors"]
    assert report["signatures_checked"] == 3


def test_openpgp_untrusted_key_fails(cli: Any, repo: Path, gpg_key: str, ssh_key: Path) -> None:
    configure_ssh_signing(repo, ssh_key)
    assert cli("init", cwd=repo).exit_code == 0
    pygit2.Repository(str(repo)).config["gpg.format"] = "openpgp"
    configure_gpg_signing(repo, gpg_key)
    _publish(cli, repo, "1.0.0")
    _, report = _verify(cli, repo, "--no-hash")
    assert any("has no OpenPGP keys" in f for f in _failures(report, "signatures"))


def test_broken_trust_file_ignored(cli: Any, registry: Path) -> None:
    signers = registry / ".gitreg" / "allowed_signers"
    signers.write_text(signers.read_text() + "broken-line\n")
    git(registry, "commit", "-qam", "Break the trust file")
    _publish(cli, registry, "2.0.0")
    code, report = _verify(cli, registry, "--no-hash")
    failures = _failures(report, "signatures")
    assert code == 1
    assert any("allowed_signers" in f and ":2: invalid" in f and "ignored" in f for f in failures)


def test_unreadable_manifest_commit(cli: Any, registry: Path) -> None:
    good = (registry / MANIFEST).read_text()
    (registry / MANIFEST).write_text("{not json")
    git(registry, "commit", "-qam", "Break the manifest")
    broken = git(registry, "rev-parse", "HEAD").strip()
    (registry / MANIFEST).write_text(good)
    git(registry, "commit", "-qam", "Restore the manifest")
    _, report = _verify(cli, registry, "--no-hash")
    failures = _failures(report, "history")
    assert any(broken[:12] in f and "is not a readable manifest" in f for f in failures)


def test_removed_then_readded_entry(cli: Any, registry: Path) -> None:
    document = json.loads((registry / MANIFEST).read_text())
    kept = document["models"][1]
    _edit_manifest(registry, lambda models: models.pop(1))
    readded = _edit_manifest(registry, lambda models: models.append(kept))
    _, report = _verify(cli, registry, "--no-hash")
    failures = _failures(report, "history")
    assert any(readded[:12] in f and "added model/model@v1.1.0 again" in f for f in failures)


def test_tag_without_added_entry(cli: Any, registry: Path) -> None:
    git(registry, "tag", "-s", "-m", "ghost", "model/ghost@v1.0.0", "HEAD")
    _, report = _verify(cli, registry, "--no-hash")
    failures = _failures(report, "tag-history")
    assert any(
        "model/ghost@v1.0.0" in f and "no commit in the history added" in f for f in failures
    )


def test_invalid_entry_fixed_later(cli: Any, registry: Path) -> None:
    def add_bad(models: list[dict[str, Any]]) -> None:
        fresh = "5f0c6a52-7d4e-4c1a-9b3e-2a1d0c9e8f7b"
        models.append({**models[0], "id": fresh, "version": "9.0.0", "cleanliness_score": 500})

    _edit_manifest(registry, add_bad)
    _edit_manifest(registry, lambda models: models[-1].update(cleanliness_score=50))
    _, report = _verify(cli, registry, "--no-hash")
    failures = _failures(report, "history")
    assert any("added an invalid entry model/model@v9.0.0" in f for f in failures)
    assert any("changed entry model/model@v9.0.0 (cleanliness_score)" in f for f in failures)
    assert any(
        "model/model@v9.0.0 is in" in f and "no commit in the history added it" in f
        for f in failures
    )


def test_empty_repository_verifies(cli: Any, repo: Path) -> None:
    code, report = _verify(cli, repo)
    assert code == 0, report["errors"]
    assert report["commits_walked"] == 0


def test_broken_head_manifest_reported(cli: Any, registry: Path) -> None:
    (registry / MANIFEST).write_text("[]")
    git(registry, "commit", "-qam", "Empty the manifest")
    code, report = _verify(cli, registry, "--no-hash")
    assert code == 1
    assert _failures(report, "head-manifests")


def test_duplicate_entry_id(cli: Any, registry: Path) -> None:
    commit = _edit_manifest(
        registry, lambda models: models.append({**models[0], "version": "9.0.0"})
    )
    _, report = _verify(cli, registry, "--no-hash")
    failures = _failures(report, "history")
    assert any(commit[:12] in f and "two entries in" in f and "share the id" in f for f in failures)


def test_since_catches_change_to_older_entry(cli: Any, registry: Path) -> None:
    base = git(registry, "rev-parse", "HEAD").strip()
    _publish(cli, registry, "2.0.0")
    document = json.loads((registry / MANIFEST).read_text())
    document["models"][0]["sha256"] = document["models"][0]["sha256"][::-1]
    (registry / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")
    git(registry, "commit", "-q", "--amend", "-a", "--no-edit")
    message = _tag_body(registry, "model/model@v2.0.0")
    git(registry, "tag", "-f", "-s", "-m", message, "model/model@v2.0.0", "HEAD")
    code, report = _verify(cli, registry, "--no-hash", "--since", base)
    assert code == 1
    assert any(
        "model/model@v1.0.0 at HEAD does not match the digest its tag carries" in f
        for f in _failures(report, "history")
    )


def test_progress_only_on_terminal(
    cli: Any, registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    result = cli("verify", cwd=registry)
    assert result.exit_code == 0, result.stdout
    assert "Walking history" not in result.stdout


def test_progress_bar_counts_commits(capsys: pytest.CaptureFixture[str]) -> None:
    from gitreg.cli.verify import _progress

    with _progress(True) as (on_hash, on_history):
        on_hash(10)
        on_history(3, 3)
    assert capsys.readouterr().out == ""


def test_copied_tag_object_fails(cli: Any, registry: Path) -> None:
    other = git(registry, "rev-parse", "model/model@v1.1.0").strip()
    git(registry, "update-ref", "refs/tags/model/model@v1.0.0", other)
    _, report = _verify(cli, registry, "--no-hash")
    failures = _failures(report, "tag-history")
    assert any("tag object named 'model/model@v1.1.0'" in f for f in failures)


def test_detached_head_verifies(cli: Any, registry: Path) -> None:
    git(registry, "checkout", "-q", "--detach", "HEAD")
    code, report = _verify(cli, registry, "--no-hash")
    assert code == 0, report["errors"]
