"""Tenant scoping: API keys, 401s, and what one client's key can see of another's entries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitreg.api.app import create_app
from gitreg.api.keys import add_key, remove_key
from tests.api.conftest import Keys

Http = Callable[[Any], Any]

API = "/api/registry"

# Every read that needs a key, with parameters that would reveal globex's entries.
GLOBEX_PROBES = (
    ("/models", {}),
    ("/models", {"client": "globex"}),
    ("/models", {"release": "v9"}),
    ("/models/churn", {}),
    ("/models/churn", {"client": "globex"}),
    ("/models/forecast", {"version": "3.0.0"}),
    ("/models/forecast", {"client": "globex"}),
    ("/datasets", {"client": "globex"}),
    ("/datasets/events", {}),
    ("/datasets/events", {"version": "1.0.0", "client": "globex"}),
    ("/metrics", {}),
)


@pytest.mark.parametrize(("path", "params"), GLOBEX_PROBES)
def test_acme_key_never_sees_globex(
    http: Http, registry: Path, keys: Keys, path: str, params: dict[str, str]
) -> None:
    client = http(create_app(registry, key_file=keys.path))
    response = client.get(f"{API}{path}", params=params, headers=keys.header(keys.acme))
    assert response.status_code in (200, 404)
    assert "globex" not in response.text


def test_hidden_entry_same_404(http: Http, registry: Path, keys: Keys) -> None:
    client = http(create_app(registry, key_file=keys.path))
    hidden = client.get(f"{API}/models/churn", headers=keys.header(keys.acme))
    absent = client.get(f"{API}/models/nothing", headers=keys.header(keys.acme))
    assert hidden.status_code == 404
    assert hidden.json()["error"] == absent.json()["error"]
    assert hidden.json()["hint"] == absent.json()["hint"]


def test_acme_key_lists_own_models(http: Http, registry: Path, keys: Keys) -> None:
    client = http(create_app(registry, key_file=keys.path))
    body = client.get(f"{API}/models", headers=keys.header(keys.acme)).json()
    assert body["count"] == 4
    assert {entry["client"] for entry in body["models"]} == {"acme-corp"}


def test_scoped_latest_is_own_latest(http: Http, registry: Path, keys: Keys) -> None:
    client = http(create_app(registry, key_file=keys.path))
    acme = client.get(f"{API}/models/forecast", headers=keys.header(keys.acme)).json()
    globex = client.get(f"{API}/models/forecast", headers=keys.header(keys.globex)).json()
    assert acme["version"] == "2.0.0-rc.1"
    assert globex["version"] == "3.0.0"


def test_scoped_metrics(http: Http, registry: Path, keys: Keys) -> None:
    client = http(create_app(registry, key_file=keys.path))
    body = client.get(f"{API}/metrics", headers=keys.header(keys.globex)).json()
    assert body == {
        "models_total": 2,
        "datasets_total": 1,
        "models_by_client": {"globex": 2},
        "datasets_by_client": {"globex": 1},
        "avg_model_cleanliness": 75.0,
        "avg_dataset_cleanliness": 60.0,
    }


def test_two_client_key_sees_both(http: Http, registry: Path, keys: Keys) -> None:
    client = http(create_app(registry, key_file=keys.path))
    body = client.get(f"{API}/models", headers=keys.header(keys.both)).json()
    assert body["count"] == 6
    assert "shared" not in {entry["name"] for entry in body["models"]}


def test_all_clients_key_sees_unscoped(http: Http, registry: Path, keys: Keys) -> None:
    client = http(create_app(registry, key_file=keys.path))
    body = client.get(f"{API}/models", headers=keys.header(keys.everyone)).json()
    assert body["count"] == 7


def test_unscoped_entry_hidden_from_client_key(http: Http, registry: Path, keys: Keys) -> None:
    client = http(create_app(registry, key_file=keys.path))
    response = client.get(f"{API}/models/shared", headers=keys.header(keys.both))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/models", "/models/forecast", "/datasets", "/datasets/sales", "/metrics"]
)
def test_missing_key_401(http: Http, registry: Path, keys: Keys, path: str) -> None:
    response = http(create_app(registry, key_file=keys.path)).get(f"{API}{path}")
    assert response.status_code == 401
    assert response.json()["error"] == "missing_api_key"
    assert response.headers["www-authenticate"] == "X-API-Key"


@pytest.mark.parametrize(
    "path", ["/models", "/models/forecast", "/datasets", "/datasets/sales", "/metrics"]
)
def test_wrong_key_401(http: Http, registry: Path, keys: Keys, path: str) -> None:
    client = http(create_app(registry, key_file=keys.path))
    response = client.get(f"{API}{path}", headers=keys.header(keys.acme + "x"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_api_key"


def test_health_needs_no_key(http: Http, registry: Path, keys: Keys) -> None:
    response = http(create_app(registry, key_file=keys.path)).get(f"{API}/health")
    assert response.status_code == 200
    assert response.json()["auth"] == "api-key"


def test_new_key_works_without_restart(http: Http, registry: Path, keys: Keys) -> None:
    client = http(create_app(registry, key_file=keys.path))
    fresh = add_key(keys.path, name="late", clients=("globex",), writer=False)
    response = client.get(f"{API}/models", headers=keys.header(fresh))
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_removed_key_rejected_at_once(http: Http, registry: Path, keys: Keys) -> None:
    client = http(create_app(registry, key_file=keys.path))
    assert client.get(f"{API}/models", headers=keys.header(keys.acme)).status_code == 200
    remove_key(keys.path, name="acme")
    response = client.get(f"{API}/models", headers=keys.header(keys.acme))
    assert response.status_code == 401


def test_broken_key_file_fails_closed(
    http: Http, registry: Path, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    client = http(create_app(registry, key_file=keys.path))
    keys.path.write_text("{not json\n", encoding="utf-8")
    first = client.get(f"{API}/models", headers=keys.header(keys.everyone))
    second = client.get(f"{API}/models", headers=keys.header(keys.everyone))
    assert first.status_code == 500
    assert first.json()["error"] == "key_file_invalid"
    assert second.status_code == 500
    assert sum("key file unusable" in record.message for record in caplog.records) == 1


def test_deleted_key_file_fails_closed(http: Http, registry: Path, keys: Keys) -> None:
    client = http(create_app(registry, key_file=keys.path))
    keys.path.unlink()
    response = client.get(f"{API}/models", headers=keys.header(keys.everyone))
    assert response.status_code == 500


def test_keys_never_logged(
    http: Http, registry: Path, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    client = http(create_app(registry, key_file=keys.path))
    client.get(f"{API}/models", headers=keys.header(keys.acme))
    client.get(f"{API}/models", headers=keys.header("gitreg_wrong"))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert keys.acme not in logged
    assert "gitreg_wrong" not in logged


def test_openapi_declares_key_header(registry: Path, keys: Keys) -> None:
    document = create_app(registry, key_file=keys.path).openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "APIKeyHeader": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key created with 'gitreg api-key add'.",
        }
    }
    assert "401" in document["paths"][f"{API}/models"]["get"]["responses"]
