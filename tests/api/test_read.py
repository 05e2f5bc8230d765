"""Read endpoints and their filters, through the TestClient and through live uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitreg.api.app import create_app
from tests.api.conftest import PUBLISHED

Http = Callable[[Any], Any]

API = "/api/registry"


def _pairs(body: dict[str, Any], key: str) -> list[tuple[str, str]]:
    return [(entry["name"], entry["version"]) for entry in body[key]]


def test_models_lists_all(http: Http, registry: Path) -> None:
    response = http(create_app(registry)).get(f"{API}/models")
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 7
    assert _pairs(body, "models") == [
        ("churn", "1.0.0"),
        ("forecast", "1.0.0"),
        ("forecast", "1.2.0"),
        ("forecast", "1.10.0"),
        ("forecast", "2.0.0-rc.1"),
        ("forecast", "3.0.0"),
        ("shared", "1.0.0"),
    ]


def test_models_entry_shape(http: Http, registry: Path) -> None:
    entry = http(create_app(registry)).get(f"{API}/models").json()["models"][0]
    assert list(entry) == [
        "id",
        "name",
        "version",
        "type",
        "created_at",
        "sha256",
        "metrics",
        "artifacts",
        "cleanliness_score",
        "release_tag",
        "client",
        "notes",
    ]
    assert entry["metrics"] == {"rmse": 0.12, "r2": 0.89}
    assert entry["type"] == "model"


def test_models_client_filter(http: Http, registry: Path) -> None:
    body = http(create_app(registry)).get(f"{API}/models", params={"client": "globex"}).json()
    assert body["count"] == 2
    assert _pairs(body, "models") == [("churn", "1.0.0"), ("forecast", "3.0.0")]


def test_models_release_filter(http: Http, registry: Path) -> None:
    body = http(create_app(registry)).get(f"{API}/models", params={"release": "v1.1.0"}).json()
    assert _pairs(body, "models") == [("forecast", "1.2.0"), ("forecast", "1.10.0")]


def test_models_both_filters(http: Http, registry: Path) -> None:
    params = {"client": "globex", "release": "v1.0.0"}
    body = http(create_app(registry)).get(f"{API}/models", params=params).json()
    assert _pairs(body, "models") == [("churn", "1.0.0")]


def test_models_unknown_client_empty(http: Http, registry: Path) -> None:
    body = http(create_app(registry)).get(f"{API}/models", params={"client": "nobody"}).json()
    assert body == {"count": 0, "models": []}


def test_model_latest_by_precedence(http: Http, registry: Path) -> None:
    response = http(create_app(registry)).get(f"{API}/models/forecast")
    assert response.status_code == 200
    assert response.json()["version"] == "3.0.0"


def test_model_latest_for_client(http: Http, registry: Path) -> None:
    client = http(create_app(registry))
    response = client.get(f"{API}/models/forecast", params={"client": "acme-corp"})
    # 2.0.0-rc.1 has higher precedence than 1.10.0, which outranks 1.2.0.
    assert response.json()["version"] == "2.0.0-rc.1"


def test_model_given_version(http: Http, registry: Path) -> None:
    client = http(create_app(registry))
    body = client.get(f"{API}/models/forecast", params={"version": "1.2.0"}).json()
    assert body["version"] == "1.2.0"
    assert body["release_tag"] == "v1.1.0"


def test_model_unknown_name_404(http: Http, registry: Path) -> None:
    response = http(create_app(registry)).get(f"{API}/models/missing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "model 'missing' not found" in response.json()["message"]


def test_model_unknown_version_404(http: Http, registry: Path) -> None:
    client = http(create_app(registry))
    response = client.get(f"{API}/models/forecast", params={"version": "9.9.9"})
    assert response.status_code == 404
    assert "version 9.9.9 not found" in response.json()["message"]


def test_model_version_of_other_client_404(http: Http, registry: Path) -> None:
    client = http(create_app(registry))
    params = {"version": "3.0.0", "client": "acme-corp"}
    response = client.get(f"{API}/models/forecast", params=params)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"version": "01.2.3"}, "leading zero"),
        ({"version": "v1.0.0"}, "drop the leading 'v'"),
        ({"version": "1.0"}, "MAJOR.MINOR.PATCH"),
        ({"client": "Acme Corp"}, "client 'Acme Corp' is not a valid slug"),
        ({"release": ""}, "query parameter 'release'"),
    ],
)
def test_bad_query_422(http: Http, registry: Path, params: dict[str, str], expected: str) -> None:
    response = http(create_app(registry)).get(f"{API}/models/forecast", params=params)
    if "release" in params:
        response = http(create_app(registry)).get(f"{API}/models", params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert expected in response.json()["message"]


def test_bad_name_422(http: Http, registry: Path) -> None:
    response = http(create_app(registry)).get(f"{API}/models/-bad name")
    assert response.status_code == 422
    assert "name '-bad name' is not valid" in response.json()["message"]


def test_datasets_list(http: Http, registry: Path) -> None:
    body = http(create_app(registry)).get(f"{API}/datasets").json()
    assert body["count"] == 3
    assert _pairs(body, "datasets") == [("events", "1.0.0"), ("sales", "1.0.0"), ("sales", "1.1.0")]


def test_datasets_filters(http: Http, registry: Path) -> None:
    client = http(create_app(registry))
    by_client = client.get(f"{API}/datasets", params={"client": "acme-corp"}).json()
    by_release = client.get(f"{API}/datasets", params={"release": "v1.0.0"}).json()
    assert _pairs(by_client, "datasets") == [("sales", "1.0.0"), ("sales", "1.1.0")]
    assert _pairs(by_release, "datasets") == [("events", "1.0.0"), ("sales", "1.0.0")]


def test_dataset_latest_and_version(http: Http, registry: Path) -> None:
    client = http(create_app(registry))
    latest = client.get(f"{API}/datasets/sales").json()
    pinned = client.get(f"{API}/datasets/sales", params={"version": "1.0.0"}).json()
    assert latest["version"] == "1.1.0"
    assert latest["row_count"] == 1
    assert pinned["version"] == "1.0.0"


def test_dataset_unknown_404(http: Http, registry: Path) -> None:
    response = http(create_app(registry)).get(f"{API}/datasets/forecast")
    assert response.status_code == 404
    assert "dataset 'forecast' not found" in response.json()["message"]


def test_metrics_aggregate(http: Http, registry: Path) -> None:
    body = http(create_app(registry)).get(f"{API}/metrics").json()
    model_scores = [p[5] for p in PUBLISHED if p[0] == "model" and p[5] is not None]
    assert body == {
        "models_total": 7,
        "datasets_total": 3,
        "models_by_client": {"acme-corp": 4, "globex": 2},
        "datasets_by_client": {"acme-corp": 2, "globex": 1},
        "avg_model_cleanliness": round(sum(model_scores) / len(model_scores), 1),
        "avg_dataset_cleanliness": round((95 + 96 + 60) / 3, 1),
    }


def test_health_ok(http: Http, registry: Path) -> None:
    response = http(create_app(registry)).get(f"{API}/health")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["manifests"] == {"models": "ok", "datasets": "ok"}
    assert body["auth"] == "open"
    assert body["writes"] is False


def test_empty_repository_serves_nothing(http: Http, repo: Path) -> None:
    client = http(create_app(repo))
    assert client.get(f"{API}/models").json() == {"count": 0, "models": []}
    assert client.get(f"{API}/health").json()["commit"] is None


def test_unknown_route_json_404(http: Http, registry: Path) -> None:
    response = http(create_app(registry)).get(f"{API}/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_post_without_writes_405(http: Http, registry: Path) -> None:
    response = http(create_app(registry)).post(f"{API}/models", json={})
    assert response.status_code == 405
    assert "--allow-writes" in response.json()["hint"]


def test_openapi_lists_every_endpoint(http: Http, registry: Path) -> None:
    document = http(create_app(registry)).get("/openapi.json").json()
    assert sorted(document["paths"]) == [
        f"{API}/datasets",
        f"{API}/datasets/{{name}}",
        f"{API}/health",
        f"{API}/metrics",
        f"{API}/models",
        f"{API}/models/{{name}}",
    ]


def test_openapi_documents_responses(registry: Path) -> None:
    document = create_app(registry).openapi()
    operation = document["paths"][f"{API}/models/{{name}}"]["get"]
    assert set(operation["responses"]) == {"200", "404", "422", "500", "503"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ModelEntry"
    }
