"""Serving from a git ref: caching by blob id, new commits, invalid manifests, bare repos."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pygit2
import pytest
from fastapi.testclient import TestClient

from gitreg.api.app import create_app
from gitreg.api.source import RegistrySource
from gitreg.errors import GitError
from gitreg.gitrepo import Repository
from tests.api.conftest import publish
from tests.conftest import git

Http = Callable[[Any], Any]

API = "/api/registry"
MODELS = "models/registry/releases.json"


def _commit_file(repo: Path, path: str, data: bytes, message: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_bytes(data)
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", message)


def test_no_reparse_while_ref_still(http: Http, registry: Path) -> None:
    app = create_app(registry)
    client = http(app)
    source: RegistrySource = app.state.source
    before = source.parse_count
    for _ in range(5):
        client.get(f"{API}/models")
        client.get(f"{API}/datasets/sales")
        client.get(f"{API}/metrics")
    assert before == 2
    assert source.parse_count == before


def test_unrelated_commit_keeps_parse(http: Http, registry: Path) -> None:
    app = create_app(registry)
    client = http(app)
    _commit_file(registry, "README.md", b"hello\n", "Add a readme")
    response = client.get(f"{API}/health")
    assert response.json()["commit"] == git(registry, "rev-parse", "HEAD").strip()
    assert app.state.source.parse_count == 2


def test_new_commit_served_without_restart(http: Http, registry: Path, cli: Any) -> None:
    app = create_app(registry)
    client = http(app)
    assert client.get(f"{API}/models", params={"client": "initech"}).json()["count"] == 0
    publish(cli, registry, "model", "late", "1.0.0", client="initech")
    body = client.get(f"{API}/models", params={"client": "initech"}).json()
    assert body["count"] == 1
    assert body["models"][0]["name"] == "late"
    assert app.state.source.parse_count == 3


def test_work_tree_edits_not_served(http: Http, registry: Path) -> None:
    client = http(create_app(registry))
    (registry / MODELS).write_text('{"broken": true}\n', encoding="utf-8")
    response = client.get(f"{API}/models")
    assert response.status_code == 200
    assert response.json()["count"] == 7


def test_invalid_manifest_json_500(
    http: Http, registry: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = http(create_app(registry))
    _commit_file(registry, MODELS, b'{"models": [\n', "Break the manifest")
    first = client.get(f"{API}/models")
    second = client.get(f"{API}/models/forecast")
    assert first.status_code == 500
    assert first.json()["error"] == "manifest_invalid"
    assert MODELS in first.json()["message"]
    assert "2:1" in first.json()["message"]
    assert second.status_code == 500
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and MODELS in r.message]
    assert len(errors) == 1


def test_invalid_manifest_keeps_server_up(http: Http, registry: Path) -> None:
    client = http(create_app(registry))
    original = (registry / MODELS).read_bytes()
    broken = original.replace(
        b'"version": "1.0.0",\n      "type"', b'"version": "01.0.0",\n      "type"', 1
    )
    _commit_file(registry, MODELS, broken, "Break a version")
    failing = client.get(f"{API}/models")
    datasets = client.get(f"{API}/datasets")
    health = client.get(f"{API}/health").json()
    assert failing.status_code == 500
    assert "01.0.0" in failing.json()["message"]
    assert datasets.status_code == 200
    assert health["status"] == "degraded"
    assert health["manifests"] == {"models": "invalid", "datasets": "ok"}
    _commit_file(registry, MODELS, original, "Restore the manifest")
    assert client.get(f"{API}/models").status_code == 200
    assert client.get(f"{API}/health").json()["status"] == "ok"


def test_invalid_manifest_detail_hidden_from_scoped_key(
    http: Http, registry: Path, keys: Any
) -> None:
    client = http(create_app(registry, key_file=keys.path))
    _commit_file(registry, MODELS, b"[]\n", "Break the manifest")
    scoped = client.get(f"{API}/metrics", headers=keys.header(keys.acme))
    full = client.get(f"{API}/metrics", headers=keys.header(keys.everyone))
    assert scoped.status_code == 500
    assert "server log" in scoped.json()["message"]
    assert "Input should be" in full.json()["message"]


def test_deleted_ref_503(http: Http, registry: Path, caplog: pytest.LogCaptureFixture) -> None:
    git(registry, "branch", "served")
    client = http(create_app(registry, ref="served"))
    git(registry, "branch", "-D", "served")
    first = client.get(f"{API}/models")
    client.get(f"{API}/models")
    health = client.get(f"{API}/health").json()
    assert first.status_code == 503
    assert first.json()["error"] == "ref_not_found"
    assert health["status"] == "degraded"
    assert health["manifests"] == {"models": "unavailable", "datasets": "unavailable"}
    assert sum("cannot resolve the served ref" in r.message for r in caplog.records) == 1
    git(registry, "branch", "served")
    assert client.get(f"{API}/models").status_code == 200


def test_unknown_ref_rejected_at_start(registry: Path) -> None:
    with pytest.raises(GitError, match="revision 'nope' not found"):
        create_app(registry, ref="nope")


def test_ref_tag_served(http: Http, registry: Path, cli: Any) -> None:
    git(registry, "tag", "release-1")
    client = http(create_app(registry, ref="release-1"))
    publish(cli, registry, "model", "late", "1.0.0")
    assert client.get(f"{API}/models").json()["count"] == 7


def test_head_follows_branch_switch(http: Http, registry: Path, cli: Any) -> None:
    client = http(create_app(registry))
    git(registry, "switch", "-q", "-c", "other")
    publish(cli, registry, "model", "late", "1.0.0")
    assert client.get(f"{API}/models").json()["count"] == 8


def test_bare_repository_served(http: Http, registry: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    pygit2.clone_repository(str(registry), str(bare), bare=True)
    client = http(create_app(bare))
    assert client.get(f"{API}/models").json()["count"] == 7
    assert client.get(f"{API}/datasets/sales").json()["version"] == "1.1.0"


def test_source_parses_each_blob_once(registry: Path) -> None:
    source = RegistrySource(Repository.discover(registry), None)
    first = source.snapshot()
    second = source.snapshot()
    assert second is first
    assert source.parse_count == 2


def test_missing_blob_500(live_server: Callable[[Any], Any], registry: Path) -> None:
    server = live_server(create_app(registry))
    original = (registry / MODELS).read_text(encoding="utf-8")
    changed = re.sub(
        r'"updated_at": "[^"]+"', '"updated_at": "2030-01-01T00:00:00Z"', original, count=1
    )
    _commit_file(registry, MODELS, changed.encode(), "Touch the manifest")
    blob = git(registry, "rev-parse", f"HEAD:{MODELS}").strip()
    (registry / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    broken = httpx.get(f"{server.url}{API}/models")
    datasets = httpx.get(f"{server.url}{API}/datasets")
    assert broken.status_code == 500
    assert broken.json()["error"] == "manifest_invalid"
    assert f"object {blob} is missing" in broken.json()["message"]
    assert datasets.status_code == 200


def test_unexpected_error_json_500(registry: Path) -> None:
    app = create_app(registry)

    def fail() -> None:
        raise ZeroDivisionError("division by zero")

    app.add_api_route("/fail", fail)
    response = TestClient(app, raise_server_exceptions=False).get("/fail")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "unexpected ZeroDivisionError" in response.json()["message"]
