"""Manifests: parsing, canonical bytes, and agreement between the models and the schemas."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitreg import manifest as manifest_module
from gitreg.entries import ModelEntry
from gitreg.errors import ManifestError, RejectedError
from gitreg.manifest import (
    MAX_MANIFEST_BYTES,
    Kind,
    empty_manifest,
    load_schema,
    parse,
    schema_problems,
    serialize,
)
from gitreg.registry import PublishRequest, publish
from tests.helpers import commit

MODEL: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "name": "forecast_v1",
    "version": "1.0.0",
    "type": "model",
    "created_at": "2025-10-15T14:30:00Z",
    "sha256": "a" * 64,
    "metrics": {"r2": 0.89, "rmse": 0.12},
    "artifacts": ["models/forecast_v1.pkl"],
    "cleanliness_score": 93,
    "release_tag": "v1.0.0",
    "client": "acme-corp",
    "notes": "Initial production model",
}
DATASET: dict[str, Any] = {
    "id": "660e9500-f39c-41e5-b827-557766551111",
    "name": "sales_data",
    "version": "1.0.0",
    "type": "dataset",
    "created_at": "2025-10-15T15:00:00Z",
    "sha256": "b" * 64,
    "row_count": 3200000,
    "schema_hash": "c" * 64,
    "artifacts": ["data/processed/sales.parquet"],
    "cleanliness_score": 95,
    "release_tag": "v1.0.0",
    "client": "acme-corp",
    "notes": "Q4 2024 sales dataset",
}
ENTRY_KEY: dict[Kind, str] = {"model": "models", "dataset": "datasets"}


def _document(kind: Kind, *entries: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "version": "1.0.0",
        "updated_at": "2025-10-15T15:00:00Z",
        ENTRY_KEY[kind]: list(entries),
    }


def _models_accept(document: Any, kind: Kind) -> bool:
    try:
        parse(json.dumps(document).encode("utf-8"), kind=kind, source="test.json")
    except ManifestError:
        return False
    return True


def _schema_accepts(document: Any, kind: Kind) -> bool:
    return schema_problems(document, kind=kind) == []


_MISSING = object()

# (field, value, valid): one change to a valid entry, and whether the result is valid.
ENTRY_CASES: list[tuple[str, Any, bool]] = [
    ("id", str(uuid.uuid4()), True),
    ("id", "550e8400-e29b-11d4-a716-446655440000", False),
    ("id", "550E8400-E29B-41D4-A716-446655440000", False),
    ("id", 5, False),
    ("name", "a", True),
    ("name", "Model-2.final_v3", True),
    ("name", "a" * 100, True),
    ("name", "a" * 101, False),
    ("name", "", False),
    ("name", "-a", False),
    ("name", "a..b", False),
    ("name", "a.lock", False),
    ("name", "a.", False),
    ("name", "a@b", False),
    ("name", "a/b", False),
    ("name", "a\n", False),
    ("version", "1.0.0-rc.1+build.5", True),
    ("version", "v1.0.0", False),
    ("version", "01.0.0", False),
    ("version", "1.2", False),
    ("version", "", False),
    ("version", "1.0.0\n", False),
    ("version", "1.0.0-01", False),
    ("type", "dataset", False),
    ("created_at", "2025-10-15T14:30:00.123456Z", True),
    ("created_at", "2025-10-15T14:30:00+00:00", False),
    ("created_at", "2025-10-15 14:30:00Z", False),
    ("created_at", "\uff12025-10-15T14:30:00Z", False),
    ("sha256", "A" * 64, False),
    ("sha256", "a" * 63, False),
    ("sha256", "a" * 64 + "\n", False),
    ("metrics", {}, True),
    ("metrics", {"a": 1, "b": -2.5e-10, "c": 10**30}, True),
    ("metrics", {"a": True}, False),
    ("metrics", {"a": "1"}, False),
    ("metrics", {"a": None}, False),
    ("metrics", {"a": {"b": 1}}, False),
    ("metrics", [1], False),
    ("artifacts", ["a", "b/c.bin"], True),
    ("artifacts", [], False),
    ("artifacts", [""], False),
    ("artifacts", ["/abs"], False),
    ("artifacts", ["../up"], False),
    ("artifacts", ["a/../b"], False),
    ("artifacts", ["./a"], False),
    ("artifacts", ["a//b"], False),
    ("artifacts", ["a/"], False),
    ("artifacts", ["a\\b"], False),
    ("artifacts", ["a/\n"], True),
    ("artifacts", "a", False),
    ("cleanliness_score", 0, True),
    ("cleanliness_score", 100, True),
    ("cleanliness_score", 50.0, True),
    ("cleanliness_score", None, True),
    ("cleanliness_score", 101, False),
    ("cleanliness_score", -1, False),
    ("cleanliness_score", 50.5, False),
    ("cleanliness_score", True, False),
    ("cleanliness_score", "93", False),
    ("release_tag", None, True),
    ("release_tag", "", False),
    ("release_tag", "r" * 256, False),
    ("client", None, True),
    ("client", "acme-corp", True),
    ("client", "Acme", False),
    ("client", "acme\n", False),
    ("notes", None, True),
    ("notes", "n" * 10_000, True),
    ("notes", "n" * 10_001, False),
    ("notes", 5, False),
    ("extra", "x", False),
    ("notes", _MISSING, False),
    ("id", _MISSING, False),
]

DATASET_CASES: list[tuple[str, Any, bool]] = [
    ("row_count", 0, True),
    ("row_count", 7.0, True),
    ("row_count", -1, False),
    ("row_count", 1.5, False),
    ("row_count", None, False),
    ("schema_hash", None, True),
    ("schema_hash", "x", False),
    ("metrics", {}, False),
]


def _changed(entry: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(entry)
    if value is _MISSING:
        del changed[field]
    else:
        changed[field] = value
    return changed


@pytest.mark.parametrize(("field", "value", "valid"), ENTRY_CASES)
def test_model_entry_agreement(field: str, value: Any, valid: bool) -> None:
    document = _document("model", _changed(MODEL, field, value))
    assert _models_accept(document, "model") is valid
    assert _schema_accepts(document, "model") is valid


@pytest.mark.parametrize(("field", "value", "valid"), DATASET_CASES)
def test_dataset_entry_agreement(field: str, value: Any, valid: bool) -> None:
    document = _document("dataset", _changed(DATASET, field, value))
    assert _models_accept(document, "dataset") is valid
    assert _schema_accepts(document, "dataset") is valid


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({}, True),
        ({"version": "2.0.0"}, False),
        ({"updated_at": "yesterday"}, False),
        ({"$schema": 7}, False),
        ({"extra": 1}, False),
        ({"models": {}}, False),
    ],
)
def test_document_agreement(change: dict[str, Any], valid: bool) -> None:
    document = {**_document("model", MODEL), **change}
    assert _models_accept(document, "model") is valid
    assert _schema_accepts(document, "model") is valid


@pytest.mark.parametrize("missing", ["$schema", "version", "updated_at", "models"])
def test_document_key_required(missing: str) -> None:
    document = _document("model", MODEL)
    del document[missing]
    assert not _models_accept(document, "model")
    assert not _schema_accepts(document, "model")


def test_top_level_array_rejected() -> None:
    assert not _models_accept([MODEL], "model")
    assert not _schema_accepts([MODEL], "model")


_TEXT = st.text(alphabet=st.sampled_from("aZ09.-_+@/ \n\\é\u0663"), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(["name", "version", "client", "release_tag", "created_at", "sha256"]),
    value=st.one_of(_TEXT, st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}(-[a-z0-9.]{1,4})?")),
)
def test_generated_strings_agree(field: str, value: str) -> None:
    document = _document("model", _changed(MODEL, field, value))
    assert _models_accept(document, "model") == _schema_accepts(document, "model")


@settings(max_examples=100, deadline=None)
@given(
    artifacts=st.lists(st.text(alphabet=st.sampled_from("a./\\\n"), max_size=6), max_size=3),
    score=st.one_of(st.none(), st.integers(-5, 105), st.floats(-5, 105), st.booleans()),
)
def test_generated_entries_agree(artifacts: list[str], score: Any) -> None:
    entry = {**MODEL, "artifacts": artifacts, "cleanliness_score": score}
    document = _document("model", entry)
    assert _models_accept(document, "model") == _schema_accepts(document, "model")


# Canonical bytes --------------------------------------------------------------


def test_round_trip_is_identity() -> None:
    data = serialize(parse(json.dumps(_document("model", MODEL)).encode(), kind="model",
                           source="x"))
    assert serialize(parse(data, kind="model", source="x")) == data


def test_canonical_key_order() -> None:
    shuffled = dict(reversed(list(MODEL.items())))
    data = serialize(parse(json.dumps(_document("model", shuffled)).encode(), kind="model",
                           source="x"))
    entry = json.loads(data)["models"][0]
    assert list(entry) == list(MODEL)


def test_canonical_format() -> None:
    data = serialize(parse(json.dumps(_document("model", MODEL)).encode(), kind="model",
                           source="x"))
    assert data.endswith(b"}\n")
    assert data.startswith(b'{\n  "$schema": ')
    assert b"\n    {\n      \"id\"" in data


def test_entries_sorted_by_precedence() -> None:
    versions = ["1.10.0", "1.0.0-rc.2", "1.9.0", "1.0.0"]
    entries = [dict(MODEL, version=v, id=str(uuid.uuid4())) for v in versions]
    entries.append(dict(MODEL, name="alpha", id=str(uuid.uuid4())))
    data = serialize(parse(json.dumps(_document("model", *entries)).encode(), kind="model",
                           source="x"))
    ordered = [(e["name"], e["version"]) for e in json.loads(data)["models"]]
    assert ordered == [
        ("alpha", "1.0.0"),
        ("forecast_v1", "1.0.0-rc.2"),
        ("forecast_v1", "1.0.0"),
        ("forecast_v1", "1.9.0"),
        ("forecast_v1", "1.10.0"),
    ]


def _publish_all(repo: Path, order: list[tuple[str, str, str]]) -> bytes:
    commit(repo, {"a.bin": b"artifact a", "b.bin": b"artifact b", "m.json": '{"z": 1, "a": 2}'})
    for epoch, (path, name, version) in enumerate(order):
        request = PublishRequest(kind="model", path=path, version=version, name=name,
                                 metrics_path="m.json", client="acme-corp")
        publish(request, cwd=repo, epoch=1_700_000_000 + epoch)
    return (repo / "models/registry/releases.json").read_bytes()


def _without_ids(data: bytes) -> tuple[bytes, list[str]]:
    document = json.loads(data)
    ids = [entry.pop("id") for entry in document["models"]]
    return json.dumps(document).encode(), ids


def test_same_content_same_bytes(tmp_path: Path) -> None:
    import pygit2

    repos = []
    for name in ("one", "two"):
        path = tmp_path / name
        created = pygit2.init_repository(str(path), initial_head="main")
        created.config["user.name"] = "Someone"
        created.config["user.email"] = "someone@example.com"
        repos.append(path)
    order = [("a.bin", "alpha", "1.0.0"), ("b.bin", "beta", "2.0.0"), ("a.bin", "alpha", "1.1.0")]
    first = _publish_all(repos[0], order)
    second = _publish_all(repos[1], order)
    first_rest, first_ids = _without_ids(first)
    second_rest, second_ids = _without_ids(second)
    assert first_rest == second_rest
    assert first_ids != second_ids
    assert first.replace(first_ids[0].encode(), second_ids[0].encode()).replace(
        first_ids[1].encode(), second_ids[1].encode()
    ).replace(first_ids[2].encode(), second_ids[2].encode()) == second


def test_reserialized_manifest_unchanged(tmp_path: Path) -> None:
    import pygit2

    path = tmp_path / "repo"
    created = pygit2.init_repository(str(path), initial_head="main")
    created.config["user.name"] = "Someone"
    created.config["user.email"] = "someone@example.com"
    data = _publish_all(path, [("b.bin", "beta", "1.0.0"), ("a.bin", "alpha", "1.0.0")])
    assert serialize(parse(data, kind="model", source="x")) == data
    assert [e["name"] for e in json.loads(data)["models"]] == ["alpha", "beta"]
    assert list(json.loads(data)["models"][0]["metrics"]) == ["a", "z"]


# Parse errors -------------------------------------------------------------------


def _parse_error(data: bytes, kind: Kind = "model") -> str:
    with pytest.raises(ManifestError) as caught:
        parse(data, kind=kind, source="m.json")
    return str(caught.value)


def test_too_large_rejected() -> None:
    message = _parse_error(b" " * (MAX_MANIFEST_BYTES + 1))
    assert message.startswith("m.json: manifest exceeds 10 MB (10,000,001 bytes)")


def test_validation_error_located() -> None:
    document = _document("model", dict(MODEL, cleanliness_score=250))
    text = json.dumps(document, indent=2)
    message = _parse_error(text.encode())
    line = text.splitlines().index('      "cleanliness_score": 250,') + 1
    assert message.startswith(f"m.json:{line}:28: $.models[0].cleanliness_score:")


def test_several_problems_counted() -> None:
    document = _document("model", dict(MODEL, cleanliness_score=250, sha256="x"))
    assert "(and 1 more problems)" in _parse_error(json.dumps(document).encode())


def test_hidden_duplicate_key_rejected() -> None:
    text = json.dumps(_document("model", MODEL), indent=2)
    text = text.replace('"version": "1.0.0",\n  "updated_at"',
                        '"version": "1.0.0",\n  "version": "1.0.0",\n  "updated_at"')
    assert "duplicate key 'version' in $" in _parse_error(text.encode())


def test_duplicate_entries_rejected() -> None:
    second = dict(MODEL, id=str(uuid.uuid4()), version="1.0.0+b")
    message = _parse_error(json.dumps(_document("model", MODEL, second)).encode())
    assert "model 'forecast_v1' has two entries for version 1.0.0 and 1.0.0+b" in message


def test_lone_surrogate_rejected() -> None:
    text = json.dumps(_document("model", dict(MODEL, notes="\ud800")))
    assert "unsupported JSON" in _parse_error(text.encode())


def test_invalid_utf8_rejected() -> None:
    assert "invalid UTF-8 byte 0xff" in _parse_error(b'{"a": "\xff"}')


def test_bom_accepted() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(_document("model", MODEL)).encode()
    assert parse(data, kind="model", source="m.json").entries[0].name == "forecast_v1"


def test_wrong_kind_located() -> None:
    message = _parse_error(json.dumps(_document("model", DATASET)).encode())
    assert "$.models[0]" in message


# Manifest values ----------------------------------------------------------------


def _entry(version: str, name: str = "m") -> ModelEntry:
    return ModelEntry.model_validate(dict(MODEL, name=name, version=version,
                                          id=str(uuid.uuid4())))


def test_find_by_precedence() -> None:
    manifest = empty_manifest("model", updated_at="2025-01-01T00:00:00Z")
    manifest = manifest.with_entry(_entry("1.0.0+a"), updated_at="2025-01-01T00:00:00Z")
    found = manifest.find("m", "1.0.0+zzz")
    assert found is not None
    assert found.version == "1.0.0+a"


def test_versions_of_one_name() -> None:
    manifest = empty_manifest("model", updated_at="2025-01-01T00:00:00Z")
    for name, version in [("b", "1.0.0"), ("m", "2.0.0"), ("a", "3.0.0"), ("m", "1.0.0")]:
        manifest = manifest.with_entry(_entry(version, name), updated_at="2025-01-01T00:00:00Z")
    assert [e.version for e in manifest.versions_of("m")] == ["1.0.0", "2.0.0"]
    assert manifest.versions_of("zz") == ()


def test_with_entry_duplicate() -> None:
    manifest = empty_manifest("model", updated_at="2025-01-01T00:00:00Z")
    manifest = manifest.with_entry(_entry("1.2.3-rc.1"), updated_at="2025-01-01T00:00:00Z")
    with pytest.raises(RejectedError) as caught:
        manifest.with_entry(_entry("1.2.3-rc.1"), updated_at="2025-01-01T00:00:00Z")
    assert caught.value.message == "model 'm' version 1.2.3-rc.1 already exists"
    assert "such as 1.2.4" in str(caught.value.hint)


def test_schemas_shipped_in_package() -> None:
    repository_copy = Path(__file__).parent.parent / "schemas" / "releases.schema.json"
    assert load_schema("model") == json.loads(repository_copy.read_text(encoding="utf-8"))


def test_schema_problem_paths() -> None:
    document = _document("dataset", dict(DATASET, row_count=-1))
    assert schema_problems(document, kind="dataset") == [
        (("datasets", 0, "row_count"), "-1 is less than the minimum of 0")
    ]


def test_entry_digest_stable() -> None:
    entry = ModelEntry.model_validate(MODEL)
    again = ModelEntry.model_validate(json.loads(json.dumps(entry.to_json_dict())))
    assert entry.digest() == again.digest()
    assert entry.tag_name == "model/forecast_v1@v1.0.0"


def test_module_limit_is_ten_megabytes() -> None:
    assert manifest_module.MAX_MANIFEST_BYTES == 10_000_000
