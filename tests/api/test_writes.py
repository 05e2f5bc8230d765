"""Writes over HTTP: publishing, registering and verifying with writer keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gitreg.api.app import create_app
from gitreg.api.keys import add_key
from gitreg.errors import GitError, UsageError
from tests.api.conftest import Keys
from tests.conftest import git, snapshot

Http = Callable[[Any], Any]

API = "/api/registry"


def _artifact(repo: Path, name: str = "new-model.bin") -> str:
    path = repo / "artifacts" / name
    path.write_bytes(b"new weights\n")
    return f"artifacts/{name}"


def _body(repo: Path, **fields: Any) -> dict[str, Any]:
    return {
        "name": "fresh",
        "version": "1.0.0",
        "artifacts": [_artifact(repo)],
        "metrics": {"rmse": 0.1},
        **fields,
    }


@pytest.fixture
def writable(registry: Path, keys: Keys) -> Any:
    return create_app(registry, key_file=keys.path, allow_writes=True)


def test_writer_publishes_model(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    client = http(writable)
    body = _body(registry, client="acme-corp", notes="from the API", cleanliness_score=91)
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.all_writer))
    result = response.json()
    assert response.status_code == 201
    assert result["success"] is True
    assert result["message"] == "Model published: fresh v1.0.0"
    assert result["model"]["metrics"] == {"rmse": 0.1}
    assert result["model"]["cleanliness_score"] == 91
    assert result["tag"] == "model/fresh@v1.0.0"
    assert result["signed"] is False
    assert git(registry, "rev-parse", "HEAD").strip() == result["commit"]
    assert git(registry, "log", "-1", "--format=%s").strip() == "Publish model fresh 1.0.0"


def test_published_model_served(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    client = http(writable)
    client.post(f"{API}/models", json=_body(registry), headers=keys.header(keys.acme_writer))
    response = client.get(f"{API}/models/fresh", headers=keys.header(keys.acme))
    assert response.status_code == 200
    assert response.json()["client"] == "acme-corp"


def test_writer_client_forced(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    client = http(writable)
    response = client.post(
        f"{API}/models", json=_body(registry), headers=keys.header(keys.acme_writer)
    )
    assert response.status_code == 201
    assert response.json()["model"]["client"] == "acme-corp"


def test_writer_other_client_403(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    before = snapshot(registry)
    client = http(writable)
    body = _body(registry, client="globex")
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.acme_writer))
    assert response.status_code == 403
    assert "may not publish for client 'globex'" in response.json()["message"]
    assert snapshot(registry).refs == before.refs


def test_several_clients_need_one(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    key = add_key(keys.path, name="multi", clients=("acme-corp", "globex"), writer=True)
    client = http(writable)
    response = client.post(f"{API}/models", json=_body(registry), headers=keys.header(key))
    assert response.status_code == 422
    assert "acme-corp, globex" in response.json()["hint"]


def test_reader_key_cannot_write(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    client = http(writable)
    response = client.post(f"{API}/models", json=_body(registry), headers=keys.header(keys.acme))
    assert response.status_code == 403
    assert response.json()["message"] == "API key 'acme' is read-only"


def test_write_without_key_401(http: Http, writable: Any, registry: Path) -> None:
    response = http(writable).post(f"{API}/models", json=_body(registry))
    assert response.status_code == 401


def test_duplicate_version_409(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    before = snapshot(registry)
    client = http(writable)
    body = _body(registry, name="forecast", version="1.0.0", client="acme-corp")
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.all_writer))
    assert response.status_code == 409
    assert response.json()["error"] == "rejected"
    assert "version 1.0.0 already exists" in response.json()["message"]
    assert snapshot(registry).refs == before.refs


def test_missing_artifact_rejected(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    client = http(writable)
    body = {"name": "ghost", "version": "1.0.0", "artifacts": ["artifacts/nothing.bin"]}
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.all_writer))
    assert response.status_code == 409
    assert "artifacts/nothing.bin" in response.json()["message"]


def test_artifact_outside_repo_rejected(
    http: Http, writable: Any, registry: Path, keys: Keys
) -> None:
    client = http(writable)
    body = {"name": "escape", "version": "1.0.0", "artifacts": ["../outside.bin"]}
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.all_writer))
    assert response.status_code == 409
    assert "../outside.bin" in response.json()["message"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"version": "1.0"}, "MAJOR.MINOR.PATCH"),
        ({"metrics": {"rmse": "low"}}, "field 'metrics.rmse': Input should be a valid integer or"),
        ({"artifacts": []}, "field 'artifacts' holds 0 paths, and it must hold exactly 1"),
        ({"artifacts": ["a", "b"]}, "field 'artifacts' holds 2 paths, and it must hold exactly 1"),
        ({"cleanliness_score": 101}, "field 'cleanliness_score'"),
        ({"release_tag": "v" * 256}, "field 'release_tag': String should have at most 255"),
        ({"unknown": 1}, "field 'unknown'"),
        ({"release_tag": "not a tag"}, "field 'release_tag'"),
    ],
)
def test_bad_body_422(
    http: Http, writable: Any, registry: Path, keys: Keys, fields: dict[str, Any], expected: str
) -> None:
    client = http(writable)
    body = _body(registry, **fields)
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.all_writer))
    assert response.status_code == 422
    assert expected in response.json()["message"]


def test_bad_release_tag_readable(
    http: Http, writable: Any, registry: Path, keys: Keys
) -> None:
    body = _body(registry, release_tag="bad tag")
    client = http(writable)
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.all_writer))
    assert response.json()["message"].startswith(
        "field 'release_tag': release tag 'bad tag' is not allowed"
    )


def test_pattern_mismatch_hides_regex(
    http: Http, writable: Any, registry: Path, keys: Keys
) -> None:
    body = _body(registry, artifacts=["a\u0000b"])
    client = http(writable)
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.all_writer))
    assert response.json()["message"] == (
        "field 'artifacts.0': 'a\\x00b' does not match the pattern that /openapi.json gives"
    )


def test_bad_body_no_location_prefix(
    http: Http, writable: Any, registry: Path, keys: Keys
) -> None:
    body = _body(registry, artifacts=["a", "b"])
    client = http(writable)
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.all_writer))
    assert not response.json()["message"].startswith("body ")


def test_bad_body_counts_other_problems(
    http: Http, writable: Any, registry: Path, keys: Keys
) -> None:
    body = _body(registry, metrics={"rmse": "low"}, cleanliness_score=101)
    client = http(writable)
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.all_writer))
    assert response.json()["message"].endswith("(and 1 more problems)")


def test_body_not_json_400(http: Http, writable: Any, keys: Keys) -> None:
    headers = {**keys.header(keys.all_writer), "Content-Type": "application/json"}
    response = http(writable).post(f"{API}/models", content=b"{not json", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["message"].startswith("the body is not valid JSON: ")


def test_body_not_json_names_offset(http: Http, writable: Any, keys: Keys) -> None:
    headers = {**keys.header(keys.all_writer), "Content-Type": "application/json"}
    response = http(writable).post(f"{API}/models", content=b"{not json", headers=headers)
    assert "at character 1" in response.json()["message"]


def test_body_plain_text_400(http: Http, writable: Any, keys: Keys) -> None:
    headers = {**keys.header(keys.all_writer), "Content-Type": "text/plain"}
    response = http(writable).post(f"{API}/models", content=b"hello", headers=headers)
    assert response.status_code == 400
    assert response.json()["message"] == "the body is not JSON (Content-Type 'text/plain')"


def test_body_missing_422(http: Http, writable: Any, keys: Keys) -> None:
    headers = {**keys.header(keys.all_writer), "Content-Type": "application/json"}
    response = http(writable).post(f"{API}/models", headers=headers)
    assert response.status_code == 422
    assert response.json()["message"] == "the body is missing"


def test_body_json_array_422(http: Http, writable: Any, keys: Keys) -> None:
    response = http(writable).post(
        f"{API}/models", json=[1], headers=keys.header(keys.all_writer)
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith("the body: ")


def test_writer_registers_dataset(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    client = http(writable)
    body = {
        "name": "clicks",
        "version": "1.0.0",
        "artifacts": [_artifact(registry, "clicks.csv")],
        "row_count": 1,
        "notes": "Q4 clicks",
    }
    response = client.post(f"{API}/datasets", json=body, headers=keys.header(keys.acme_writer))
    result = response.json()
    assert response.status_code == 201
    assert result["message"] == "Dataset registered: clicks v1.0.0"
    assert result["dataset"]["row_count"] == 1
    assert result["tag"] == "dataset/clicks@v1.0.0"


def test_dataset_rows_required(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    client = http(writable)
    body = {"name": "clicks", "version": "1.0.0", "artifacts": [_artifact(registry, "c.csv")]}
    response = client.post(f"{API}/datasets", json=body, headers=keys.header(keys.all_writer))
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_dataset_rows_hint_names_field(
    http: Http, writable: Any, registry: Path, keys: Keys
) -> None:
    client = http(writable)
    body = {"name": "clicks", "version": "1.0.0", "artifacts": [_artifact(registry, "c.csv")]}
    response = client.post(f"{API}/datasets", json=body, headers=keys.header(keys.all_writer))
    assert response.json()["hint"] == "pass it in the row_count field"


def test_dataset_rows_hint_no_option(
    http: Http, writable: Any, registry: Path, keys: Keys
) -> None:
    client = http(writable)
    body = {"name": "clicks", "version": "1.0.0", "artifacts": [_artifact(registry, "c.csv")]}
    response = client.post(f"{API}/datasets", json=body, headers=keys.header(keys.all_writer))
    assert "--" not in response.text


def test_verify_all_clients_key(http: Http, writable: Any, keys: Keys) -> None:
    response = http(writable).post(f"{API}/verify", headers=keys.header(keys.everyone))
    result = response.json()
    assert response.status_code == 200
    assert result["valid"] is True
    assert result["models_checked"] == 7
    assert result["datasets_checked"] == 3
    assert result["artifacts_hashed"] == 10


def test_verify_reports_tampering(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    (registry / "artifacts" / "churn-1.0.0.bin").write_bytes(b"tampered")
    response = http(writable).post(f"{API}/verify", headers=keys.header(keys.everyone))
    assert response.json()["valid"] is False
    assert "hash mismatch" in response.json()["errors"][0]


def test_verify_without_rehash(http: Http, writable: Any, keys: Keys) -> None:
    client = http(writable)
    response = client.post(
        f"{API}/verify", params={"rehash": "false"}, headers=keys.header(keys.everyone)
    )
    assert response.json()["artifacts_hashed"] == 0


def test_verify_without_rehash_warning(http: Http, writable: Any, keys: Keys) -> None:
    client = http(writable)
    response = client.post(
        f"{API}/verify", params={"rehash": "false"}, headers=keys.header(keys.everyone)
    )
    assert "artifact hashes were not checked (rehash=false)" in response.json()["warnings"]


def test_verify_scoped_key_403(http: Http, writable: Any, keys: Keys) -> None:
    response = http(writable).post(f"{API}/verify", headers=keys.header(keys.acme_writer))
    assert response.status_code == 403


def test_writes_need_key_file(registry: Path) -> None:
    with pytest.raises(UsageError, match="--allow-writes needs --keys"):
        create_app(registry, allow_writes=True)


def test_writes_need_work_tree(registry: Path, keys: Keys, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    pygit2.clone_repository(str(registry), str(bare), bare=True)
    with pytest.raises(GitError, match="bare repository"):
        create_app(bare, key_file=keys.path, allow_writes=True)


def test_writes_need_served_branch(registry: Path, keys: Keys) -> None:
    git(registry, "branch", "other")
    with pytest.raises(GitError, match="--ref other is not the checked-out branch"):
        create_app(registry, ref="other", key_file=keys.path, allow_writes=True)


def test_writes_accept_checked_out_ref(registry: Path, keys: Keys) -> None:
    app = create_app(registry, ref="main", key_file=keys.path, allow_writes=True)
    assert f"{API}/verify" in app.openapi()["paths"]


def test_writer_own_client_named(http: Http, writable: Any, registry: Path, keys: Keys) -> None:
    client = http(writable)
    body = _body(registry, client="acme-corp")
    response = client.post(f"{API}/models", json=body, headers=keys.header(keys.acme_writer))
    assert response.status_code == 201
    assert response.json()["model"]["client"] == "acme-corp"
